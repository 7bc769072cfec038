import Foundation
import HDF5

/// An HDF5 file as plain values — groups and datasets with their attributes, each dataset with its element type,
/// shape, storage options and values — so that a valid file written by one of GradFeat's writers can be changed
/// structurally (other shapes, dtypes, attributes) and written again through the HDF5 module, without touching
/// libhdf5's own on-disk encoding.
public struct HDF5Tree: Sendable, CustomStringConvertible {
    public struct Node: Sendable {
        /// Absolute path ("/" for the root group).
        public var path: String
        public var isGroup: Bool
        public var attributes: [(name: String, value: HDF5AttributeValue)] = []
        public var elementType: HDF5ElementType = .float32
        public var shape: [Int] = []
        /// The values (converted to `Double`), or nil for a dataset created without writing any: its chunks stay
        /// unallocated, so a huge declared shape costs nothing on disk.
        public var values: [Double]?
        public var options: DatasetOptions = .contiguous

        public init(path: String, isGroup: Bool) {
            self.path = path
            self.isGroup = isGroup
        }
    }

    /// Parents before children; `nodes[0]` is the root group.
    public var nodes: [Node]

    /// One line per group and dataset: path, type, shape, storage, attributes.
    public var description: String {
        nodes.map { node in
            let attributes = node.attributes.map { "\($0.name)=\($0.value)" }.joined(separator: " ")
            if node.isGroup { return "\(node.path)/ \(attributes)" }
            let written = node.values == nil ? "unwritten" : "written"
            return "\(node.path) \(node.elementType) \(node.shape) \(node.options) \(written) \(attributes)"
        }.joined(separator: "\n")
    }

    /// Reads every group, dataset and attribute of the file at `url`.
    public init(contentsOf url: URL) throws {
        let file = try HDF5File(url: url, mode: .readOnly)
        defer { try? file.close() }
        var root = Node(path: "/", isGroup: true)
        root.attributes = try Self.attributes(of: file)
        nodes = [root]
        try readChildren(of: file, at: "")
    }

    private mutating func readChildren(of container: some HDF5Container, at prefix: String) throws {
        for name in try container.children() {
            let path = prefix + "/" + name
            if try container.objectKind(at: name) == .group {
                let group = try container.group(named: name)
                var node = Node(path: path, isGroup: true)
                node.attributes = try Self.attributes(of: group)
                nodes.append(node)
                try readChildren(of: group, at: path)
            } else {
                let dataset = try container.dataset(named: name)
                var node = Node(path: path, isGroup: false)
                node.attributes = try Self.attributes(of: dataset)
                node.elementType = dataset.elementType
                node.shape = dataset.shape
                node.values = try Self.values(of: dataset)
                nodes.append(node)
            }
        }
    }

    private static func attributes(of object: some HDF5Object) throws -> [(name: String, value: HDF5AttributeValue)] {
        try object.attributeNames().map { ($0, try object.attribute($0)) }
    }

    private static func values(of dataset: Dataset) throws -> [Double] {
        switch dataset.elementType {
        case .uint8: return try dataset.read(as: UInt8.self).map(Double.init)
        case .int8: return try dataset.read(as: Int8.self).map(Double.init)
        case .uint16: return try dataset.read(as: UInt16.self).map(Double.init)
        case .int16: return try dataset.read(as: Int16.self).map(Double.init)
        case .uint32: return try dataset.read(as: UInt32.self).map(Double.init)
        case .int32: return try dataset.read(as: Int32.self).map(Double.init)
        case .uint64: return try dataset.read(as: UInt64.self).map(Double.init)
        case .int64: return try dataset.read(as: Int64.self).map(Double.init)
        case .float16, .float32: return try dataset.read(as: Float.self).map(Double.init)
        case .float64: return try dataset.read(as: Double.self)
        }
    }

    /// Writes the tree as a new file at `url`. Values are fitted to each dataset's shape (cut, or padded with
    /// zeros) and converted to its element type (saturating); a dataset of more than 2^16 elements is left
    /// unwritten.
    public func write(to url: URL) throws {
        let file = try HDF5File(url: url, mode: .create)
        defer { try? file.close() }
        for node in nodes {
            let object: any HDF5Object
            if node.path == "/" {
                object = file
            } else if node.isGroup {
                object = try file.createGroup(node.path)
            } else {
                let dataset = try file.createDataset(
                    node.path, elementType: node.elementType, shape: node.shape, options: node.options)
                let count = node.shape.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? .max : $0 * $1 }
                if var values = node.values, count <= 1 << 16 {
                    values = Array(values.prefix(count)) + [Double](repeating: 0, count: max(0, count - values.count))
                    try Self.write(values, to: dataset)
                }
                object = dataset
            }
            for (name, value) in node.attributes { try Self.setAttribute(name, value, on: object) }
        }
    }

    private static func setAttribute(_ name: String, _ value: HDF5AttributeValue, on object: some HDF5Object) throws {
        switch value {
        case .string(let v): try object.setAttribute(name, v)
        case .int64(let v): try object.setAttribute(name, v)
        case .double(let v): try object.setAttribute(name, v)
        case .strings(let v): try object.setAttribute(name, v)
        case .int64s(let v): try object.setAttribute(name, v)
        case .doubles(let v): try object.setAttribute(name, v)
        }
    }

    private static func write(_ values: [Double], to dataset: Dataset) throws {
        func integers<T: FixedWidthInteger & HDF5Scalar>(_: T.Type) throws {
            try dataset.write(
                values.map { v -> T in
                    if v.isNaN { return 0 }
                    if v <= Double(T.min) { return .min }
                    if v >= Double(T.max) { return .max }
                    return T(v)
                })
        }
        switch dataset.elementType {
        case .uint8: try integers(UInt8.self)
        case .int8: try integers(Int8.self)
        case .uint16: try integers(UInt16.self)
        case .int16: try integers(Int16.self)
        case .uint32: try integers(UInt32.self)
        case .int32: try integers(Int32.self)
        case .uint64: try integers(UInt64.self)
        case .int64: try integers(Int64.self)
        case .float16, .float32: try dataset.write(values.map { Float($0) })
        case .float64: try dataset.write(values)
        }
    }
}

extension HDF5Tree {
    /// The tree of the file that `write` (one of GradFeat's writers) creates at a scratch URL: the valid starting
    /// point of the mutations, made once per process.
    public static func written(by write: (URL) throws -> Void) -> HDF5Tree {
        let url = Scratch.url("template-\(UUID().uuidString).h5")
        defer { try? FileManager.default.removeItem(at: url) }
        do {
            try write(url)
            return try HDF5Tree(contentsOf: url)
        } catch {
            fatalError("cannot write the template file: \(error)")
        }
    }

    /// Whether every dataset has at most 2^16 elements, so that readers of whole files may be called on it.
    public var isSmall: Bool {
        nodes.allSatisfy { node in
            node.isGroup
                || node.shape.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? .max : $0 * $1 } <= 1 << 16
        }
    }

    /// One input of an HDF5 target: one of `templates`, mutated as `input` chooses, written to a scratch file
    /// whose URL `read` opens. A tree that the HDF5 module refuses to write (the mutation made no sense) ends the
    /// input early, like any thrown error.
    public static func fuzz(
        _ input: inout FuzzInput, templates: [HDF5Tree], _ read: (URL, HDF5Tree, inout FuzzInput) throws -> Void
    ) throws {
        var tree = input.pick(templates)
        tree.mutate(&input)
        let url = Scratch.url("input.h5")
        try tree.write(to: url)
        if verbose { print(tree) }
        if let keep = ProcessInfo.processInfo.environment["GRADFEAT_FUZZ_KEEP"] { // a copy for h5dump
            try? FileManager.default.removeItem(atPath: keep)
            try? FileManager.default.copyItem(atPath: url.path, toPath: keep)
        }
        try read(url, tree, &input)
    }
}
