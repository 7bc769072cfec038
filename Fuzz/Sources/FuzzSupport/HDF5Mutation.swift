import HDF5

/// Attribute and object names of every GradFeat HDF5 format (docs/FORMATS.md), so that mutations add, drop and
/// retype the ones readers look for.
public let knownAttributeNames = [
    "format", "version", "class_names", "source", "split", "count", "image_shape", "encoding", "model",
    "weights_hash", "layer", "transform", "class_count", "extractor", "iteration", "optimizer_step", "rng_state",
    "config", "history", "parameter_names",
]
public let knownObjectNames = [
    "images", "labels", "targets", "activations", "parameters", "optimizer", "0", "1", "fc.weight", "fc.bias",
]

extension HDF5Tree {
    /// Applies a few structural changes chosen by `input`: datasets reshaped (small, empty, scalar, or huge and
    /// never written), retyped, given NaN / infinite / out-of-range values, re-chunked, moved, dropped or turned
    /// into groups; attributes dropped, replaced by values of another type, or edited.
    public mutating func mutate(_ input: inout FuzzInput) {
        for _ in 0..<input.int(in: 0...6) {
            guard !nodes.isEmpty else { return }
            let index = input.int(in: 0...nodes.count - 1)
            switch input.int(in: 0...11) {
            case 0: nodes[index].reshape(input.smallShape())
            case 1: nodes[index].declareHuge(&input)
            case 2: nodes[index].elementType = input.pick(HDF5ElementType.allCases)
            case 3: nodes[index].poison(&input)
            case 4: nodes[index].options = input.datasetOptions(for: nodes[index].shape)
            case 5: drop(index)
            case 6: move(index, to: input.pick(knownObjectNames + ["parameters/0", "optimizer/9", "a/b/c"]))
            case 7:
                if nodes[index].isGroup, nodes[index].path != "/" {
                    let path = nodes[index].path
                    nodes.removeAll { $0.path.hasPrefix(path + "/") }
                }
                guard nodes[index].path != "/" else { continue }
                nodes[index].isGroup.toggle()
                nodes[index].values = nodes[index].isGroup ? nil : [1, 2, 3]
                nodes[index].shape = nodes[index].isGroup ? [] : [3]
                nodes[index].options = .contiguous
            case 8:
                if !nodes[index].attributes.isEmpty {
                    nodes[index].attributes.remove(at: input.int(in: 0...nodes[index].attributes.count - 1))
                }
            case 9:
                let name = input.pick(knownAttributeNames + nodes[index].attributes.map(\.name))
                nodes[index].attributes.removeAll { $0.name == name }
                nodes[index].attributes.append((name, input.attributeValue()))
            case 10:
                if !nodes[index].attributes.isEmpty {
                    let a = input.int(in: 0...nodes[index].attributes.count - 1)
                    nodes[index].attributes[a].value = input.retype(nodes[index].attributes[a].value)
                }
            default:
                if !nodes[index].attributes.isEmpty {
                    let a = input.int(in: 0...nodes[index].attributes.count - 1)
                    nodes[index].attributes[a].value = input.edit(nodes[index].attributes[a].value)
                }
            }
        }
    }

    /// Removes node `index` and everything under it (never the root).
    mutating func drop(_ index: Int) {
        let path = nodes[index].path
        guard path != "/" else { return }
        nodes.removeAll { $0.path == path || $0.path.hasPrefix(path + "/") }
    }

    /// Moves a dataset to `name`, replacing whatever was there.
    mutating func move(_ index: Int, to name: String) {
        guard !nodes[index].isGroup else { return }
        var node = nodes[index]
        node.path = "/" + name
        drop(index)
        if let existing = nodes.firstIndex(where: { $0.path == node.path }) { drop(existing) }
        nodes.append(node)
    }
}

extension HDF5Tree.Node {
    /// Gives the dataset another shape; its values are cut or padded when written.
    mutating func reshape(_ newShape: [Int]) {
        guard !isGroup else { return }
        shape = newShape
        if values == nil { values = [] }
        options = shape.contains(0) || shape.isEmpty ? .contiguous : options
        if let chunk = options.chunkShape, chunk.count != shape.count || zip(chunk, shape).contains(where: >) {
            options.chunkShape = nil
        }
    }

    /// A shape of up to 2^62 elements per dimension (one dimension of the current shape, or a new shape), never
    /// written: chunked (all chunks unallocated), sometimes extendable, so the file stays a few kilobytes.
    mutating func declareHuge(_ input: inout FuzzInput) {
        guard !isGroup else { return }
        let huge = [1 << 16, 1 << 24, 1 << 31, 1 << 32, 1 << 40, 1 << 62]
        if !shape.isEmpty, input.bool() { // one dimension (often the rows) made huge, the rank kept
            shape[input.rarely(3) ? input.int(in: 0...shape.count - 1) : 0] = input.pick(huge)
        } else {
            shape = (0..<input.int(in: 1...4)).map { _ in input.bool() ? input.int(in: 1...4) : input.pick(huge) }
        }
        values = nil
        options = DatasetOptions(chunkShape: shape.map { _ in 1 }, extendable: input.bool())
    }

    /// Overwrites a few values with NaN, ±infinity, -1, huge or out-of-range numbers.
    mutating func poison(_ input: inout FuzzInput) {
        guard !isGroup, var values, !values.isEmpty else { return }
        for _ in 0...input.int(in: 0...3) {
            let value = input.bool() ? input.edgeDouble() : Double(input.edgeInt())
            values[input.int(in: 0...values.count - 1)] = value
        }
        self.values = values
    }
}

extension FuzzInput {
    /// A shape of rank 0 … 4 with small dimensions (0 included).
    public mutating func smallShape() -> [Int] {
        (0..<int(in: 0...4)).map { _ in pick([0, 1, 1, 2, 3, 4, 5, 16]) }
    }

    /// Storage options that fit `shape`: contiguous, chunked, compressed or extendable. A huge shape gets chunks of
    /// one element, so that the file can still be written (the HDF5 module refuses automatic chunks for it).
    mutating func datasetOptions(for shape: [Int]) -> DatasetOptions {
        guard !shape.isEmpty, !shape.contains(0) else { return .contiguous }
        let ones = shape.count(where: { $0 > 1 << 16 }) > 0 ? shape.map { _ in 1 } : nil
        switch int(in: 0...3) {
        case 0: return .contiguous
        case 1: return DatasetOptions(chunkShape: shape.map { _ in 1 })
        case 2: return DatasetOptions(chunkShape: ones, compression: .deflate(level: int(in: 0...9)), shuffle: true)
        default: return DatasetOptions(chunkShape: ones, extendable: true)
        }
    }

    /// An attribute value of any of the six kinds, with edge-case contents.
    public mutating func attributeValue() -> HDF5AttributeValue {
        switch int(in: 0...5) {
        case 0:
            return .string(
                pick([
                    "", "gradfeat-dataset", "gradfeat-activations", "gradfeat-weights",
                    "gradfeat-checkpoint", "{}", "[]", "null",
                ]) + text(maxCount: 24))
        case 1: return .int64(Int64(edgeInt()))
        case 2: return .double(edgeDouble())
        case 3: return .strings((0..<int(in: 0...4)).map { _ in text(maxCount: 12) })
        case 4: return .int64s((0..<int(in: 0...5)).map { _ in Int64(edgeInt()) })
        default: return .doubles((0..<int(in: 0...3)).map { _ in edgeDouble() })
        }
    }

    /// The same content as another kind: a number as text or the reverse, a scalar as a one-element list or a
    /// list as its first element, integers as doubles.
    mutating func retype(_ value: HDF5AttributeValue) -> HDF5AttributeValue {
        switch value {
        case .string(let s): return bool() ? .strings([s]) : .int64(Int64(s) ?? 0)
        case .int64(let v): return bool() ? .string(String(v)) : (bool() ? .int64s([v]) : .double(Double(v)))
        case .double(let v): return bool() ? .string(String(v)) : .doubles([v])
        case .strings(let s): return bool() ? .string(s.first ?? "") : .string(s.joined(separator: ","))
        case .int64s(let v): return bool() ? .int64(v.first ?? 0) : .doubles(v.map(Double.init))
        case .doubles(let v):
            return bool() ? .double(v.first ?? 0) : .int64s(v.map { $0.isFinite ? Int64($0.clamped) : 0 })
        }
    }

    /// The value with a small edit: text spliced (a range deleted, input bytes inserted), a list shortened or
    /// lengthened, a number changed to an edge case.
    mutating func edit(_ value: HDF5AttributeValue) -> HDF5AttributeValue {
        switch value {
        case .string(let s): return .string(splice(s))
        case .strings(var s):
            if !s.isEmpty, bool() { s.remove(at: int(in: 0...s.count - 1)) } else { s.append(splice(s.last ?? "")) }
            return .strings(s)
        case .int64: return .int64(Int64(edgeInt()))
        case .double: return .double(edgeDouble())
        case .int64s(var v):
            if !v.isEmpty, bool() { v[int(in: 0...v.count - 1)] = Int64(edgeInt()) } else { v.append(Int64(edgeInt())) }
            return .int64s(v)
        case .doubles(var v):
            if !v.isEmpty, bool() { v[int(in: 0...v.count - 1)] = edgeDouble() } else { v.append(edgeDouble()) }
            return .doubles(v)
        }
    }

    /// `text` with a range of its UTF-8 bytes replaced by bytes from the input.
    mutating func splice(_ text: String) -> String {
        var bytes = Array(text.utf8)
        let start = bytes.isEmpty ? 0 : int(in: 0...bytes.count)
        let end = min(bytes.count, start + int(in: 0...8))
        bytes.replaceSubrange(start..<end, with: data(maxCount: 16))
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension Double {
    /// The value clamped to the range of `Int64` (finite values only).
    fileprivate var clamped: Double { Swift.min(Swift.max(self, -9.2e18), 9.2e18) }
}
