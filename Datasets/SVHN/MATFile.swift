/// A reader for MATLAB level-5 MAT-files (the `-v5`/`-v6`/`-v7` formats; little-endian), enough
/// for numeric arrays such as the SVHN `.mat` files.
///
/// Layout (MathWorks, "MAT-File Format", level 5):
///
/// ```
/// 128-byte header: 116 bytes text, 8 bytes subsystem offset, version 0x0100, endian "IM"
/// data elements:   tag (type: UInt32, byte count: UInt32) + data padded to 8 bytes,
///                  or a "small" tag (count << 16 | type) with <= 4 data bytes
/// miCOMPRESSED(15): a zlib stream holding one element
/// miMATRIX(14):    array flags, dimensions, name, real part [, imaginary part]
/// ```
///
/// Numeric arrays are returned column-major, as MATLAB stores them. Cell, struct, sparse, object
/// and character arrays are skipped. MATLAB 7.3 files are HDF5 files and are rejected with a
/// message saying so.
public struct MATFile: Sendable {
    /// One numeric variable.
    public struct Variable: Sendable, Equatable {
        /// The variable name.
        public var name: String
        /// Dimension sizes (column-major order, as in MATLAB's `size`).
        public var dimensions: [Int]
        /// MATLAB class id (6 double, 7 single, 8 int8, 9 uint8, 10 int16, … 15 uint64).
        public var classID: Int
        /// The values: raw bytes when stored as `uint8`, otherwise converted to `Double`.
        public var storage: Storage

        /// Element count.
        public var count: Int { dimensions.reduce(1, *) }
    }

    /// Values of a variable.
    public enum Storage: Sendable, Equatable {
        /// Stored as miUINT8.
        case uint8([UInt8])
        /// Any other numeric storage type, converted.
        case double([Double])

        /// The values as `Double`.
        public var doubles: [Double] {
            switch self {
            case .uint8(let bytes): return bytes.map(Double.init)
            case .double(let values): return values
            }
        }
    }

    /// Path (for messages).
    public let path: String
    /// Numeric variables by name.
    public let variables: [String: Variable]

    /// Reads the MAT-file at `path`.
    public init(path: String) throws(DatasetError) {
        try self.init(bytes: try CompressedFile.read(path: path), path: path)
    }

    /// Parses MAT-file bytes; `path` names the file in errors.
    public init(bytes: [UInt8], path: String) throws(DatasetError) {
        self.path = path
        guard bytes.count >= 128 else {
            throw .malformed(path: path, entry: nil, reason: "file too short for a MAT-file header")
        }
        let text = String(decoding: bytes[0..<116], as: UTF8.self)
        let hdf5Signature: [UInt8] = [0x89, 0x48, 0x44, 0x46]
        if text.hasPrefix("MATLAB 7.3")
            || (bytes.count >= 516 && bytes[512..<516].elementsEqual(hdf5Signature))
        {
            throw .unsupported(
                path: path,
                reason: "MATLAB 7.3 MAT-files are HDF5; re-save with `save -v7` or read it as HDF5")
        }
        guard text.hasPrefix("MATLAB") else {
            throw .malformed(path: path, entry: nil, reason: "not a MATLAB level-5 MAT-file (no 'MATLAB' header)")
        }
        guard bytes[126] == UInt8(ascii: "I"), bytes[127] == UInt8(ascii: "M") else {
            throw .unsupported(path: path, reason: "big-endian MAT-files are not supported")
        }
        var found: [String: Variable] = [:]
        var offset = 128
        var index = 0
        while offset + 8 <= bytes.count {
            let element = try Self.element(bytes, at: offset, path: path, entry: "element \(index)")
            offset = element.next
            switch element.type {
            case 15: // miCOMPRESSED
                let inner = try Gzip.decompress(Array(bytes[element.data]), name: "\(path) [element \(index)]")
                let matrix = try Self.element(inner, at: 0, path: path, entry: "element \(index)")
                if matrix.type == 14, let variable = try Self.matrix(inner, matrix.data, path: path, index: index) {
                    found[variable.name] = variable
                }
            case 14:
                if let variable = try Self.matrix(bytes, element.data, path: path, index: index) {
                    found[variable.name] = variable
                }
            default:
                break
            }
            index += 1
        }
        variables = found
    }

    /// The variable `name`, or a `missingField` error naming it and the file.
    public func variable(_ name: String) throws(DatasetError) -> Variable {
        guard let variable = variables[name] else {
            throw .missingField(
                path: path, field: name,
                context: "the MAT-file (it has: \(variables.keys.sorted().joined(separator: ", ")))")
        }
        return variable
    }

    private static func u32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
            | UInt32(bytes[offset + 3]) << 24
    }

    private static func element(_ bytes: [UInt8], at offset: Int, path: String, entry: String)
        throws(DatasetError) -> (type: UInt32, data: Range<Int>, next: Int)
    {
        guard offset + 8 <= bytes.count else {
            throw .malformed(path: path, entry: entry, reason: "data element tag cut short")
        }
        let first = u32(bytes, offset)
        if first >> 16 != 0 { // small data element
            let n = Int(first >> 16)
            guard n <= 4 else { throw .malformed(path: path, entry: entry, reason: "bad small element size \(n)") }
            return (first & 0xffff, offset + 4..<offset + 4 + n, offset + 8)
        }
        let n = Int(u32(bytes, offset + 4))
        let start = offset + 8
        guard start + n <= bytes.count else {
            throw .truncatedRecord(path: path, record: 0, recordBytes: n, availableBytes: bytes.count - start)
        }
        let next = first == 15 ? start + n : start + (n + 7) / 8 * 8
        return (first, start..<start + n, next)
    }

    /// Parses a miMATRIX body; `nil` for non-numeric classes.
    private static func matrix(_ bytes: [UInt8], _ body: Range<Int>, path: String, index: Int)
        throws(DatasetError) -> Variable?
    {
        let entry = "element \(index)"
        var offset = body.lowerBound
        func next() throws(DatasetError) -> (type: UInt32, data: Range<Int>) {
            guard offset < body.upperBound else {
                throw .malformed(path: path, entry: entry, reason: "matrix element cut short")
            }
            let e = try element(bytes, at: offset, path: path, entry: entry)
            offset = e.next
            return (e.type, e.data)
        }
        let flags = try next()
        guard flags.data.count >= 4 else { throw .malformed(path: path, entry: entry, reason: "bad array flags") }
        let classID = Int(bytes[flags.data.lowerBound])
        guard (6...15).contains(classID) else { return nil } // not a numeric array
        let dims = try next()
        let dimensions = stride(from: dims.data.lowerBound, to: dims.data.upperBound - 3, by: 4).map {
            Int(Int32(bitPattern: u32(bytes, $0)))
        }
        let nameElement = try next()
        let name = String(decoding: bytes[nameElement.data], as: UTF8.self)
        let real = try next()
        guard let count = dimensions.checkedProduct else {
            throw .malformed(
                path: path, entry: "variable \(name)", reason: "dimensions \(dimensions) are negative or overflow")
        }
        let storage = try convert(bytes, real.type, real.data, path: path, entry: "variable \(name)")
        let stored: Int
        switch storage {
        case .uint8(let values): stored = values.count
        case .double(let values): stored = values.count
        }
        guard stored == count else {
            throw .malformed(
                path: path, entry: "variable \(name)",
                reason: "\(stored) values for dimensions \(dimensions)")
        }
        return Variable(name: name, dimensions: dimensions, classID: classID, storage: storage)
    }

    private static func convert(
        _ bytes: [UInt8], _ type: UInt32, _ range: Range<Int>, path: String, entry: String
    ) throws(DatasetError) -> Storage {
        let raw = bytes[range]
        /// Little-endian values of `T`, converted by `map`.
        func values<T: FixedWidthInteger>(_: T.Type, _ map: (T) -> Double) -> [Double] {
            let size = MemoryLayout<T>.size
            return stride(from: raw.startIndex, to: raw.endIndex - size + 1, by: size).map { at in
                var v: T = 0
                for k in 0..<size { v |= T(truncatingIfNeeded: bytes[at + k]) << (8 * k) }
                return map(v)
            }
        }
        switch type {
        case 2: return .uint8(Array(raw))
        case 1: return .double(values(Int8.self) { Double($0) })
        case 3: return .double(values(Int16.self) { Double($0) })
        case 4: return .double(values(UInt16.self) { Double($0) })
        case 5: return .double(values(Int32.self) { Double($0) })
        case 6: return .double(values(UInt32.self) { Double($0) })
        case 12: return .double(values(Int64.self) { Double($0) })
        case 13: return .double(values(UInt64.self) { Double($0) })
        case 7: return .double(values(UInt32.self) { Double(Float(bitPattern: $0)) })
        case 9: return .double(values(UInt64.self) { Double(bitPattern: $0) })
        default:
            throw .unsupported(path: path, reason: "\(entry): MAT data type \(type)")
        }
    }
}
