import Foundation

/// Scalars in TensorBoard's event-file format, so that `tensorboard --logdir runs/` plots a run as it trains.
///
/// A file `events.out.tfevents.<seconds>.<host>.<pid>` is a sequence of TFRecords, each
/// ```
/// uint64 length (little-endian) · uint32 masked CRC-32C of those 8 bytes · data · uint32 masked CRC-32C of data
/// masked(c) = ((c >> 15) | (c << 17)) + 0xa282ead8      (CRC-32C: Castagnoli, reflected polynomial 0x82f63b78)
/// ```
/// whose data is a serialised `tensorflow.Event`: the first carries `file_version = "brain.Event:2"`, every other
/// one a `Summary` with one `Value { tag, simple_value }` — the fields TensorBoard's scalar dashboard and its
/// `EventAccumulator` read. The few protobuf fields are encoded here by hand:
/// ```
/// Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5;
///           SessionLog session_log = 6; }               SessionLog { SessionStatus status = 1; }  (START = 1)
/// Summary { repeated Value value = 1; }      Value { string tag = 1; float simple_value = 2; }
/// ```
/// Each event is written (and flushed) as it is added, so a reader sees every scalar up to the last step.
public final class TensorBoardEvents: @unchecked Sendable {
    // The handle is written under `lock`: the trainer may report from any thread.
    public let url: URL
    private let handle: FileHandle
    private let lock = NSLock()
    private var failed = false

    /// Starts a new event file in `directory` (created if needed). TensorBoard reads every file of a folder, in
    /// name order, as one run. With `restartingAt` (a resumed run) the earlier files stay and the new one begins
    /// with a `SessionLog.START` at that step, on which TensorBoard drops the earlier files' points from that step
    /// on; without it the earlier files are removed (a fresh run into the folder).
    public init(directory: URL, restartingAt restart: Int? = nil, wallTime: Double = Date().timeIntervalSince1970)
        throws
    {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if restart == nil {
            for old in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            where old.hasPrefix("events.out.tfevents.") {
                try? FileManager.default.removeItem(at: directory.appendingPathComponent(old))
            }
        }
        // gethostname, not ProcessInfo.hostName, which may wait on a name lookup.
        var hostBuffer = [UInt8](repeating: 0, count: 256)
        let named = hostBuffer.withUnsafeMutableBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                chars.baseAddress.map { gethostname($0, chars.count - 1) == 0 } ?? false
            }
        }
        let host =
            named
            ? String(decoding: hostBuffer.prefix { $0 != 0 }, as: UTF8.self)
                .split(separator: ".").first.map(String.init) ?? "localhost" : "localhost"
        var name = "events.out.tfevents.\(Int(wallTime)).\(host).\(ProcessInfo.processInfo.processIdentifier)"
        var n = 1
        while FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path) {
            n += 1
            name = "events.out.tfevents.\(Int(wallTime)).\(host).\(ProcessInfo.processInfo.processIdentifier).\(n)"
        }
        url = directory.appendingPathComponent(name)
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw GradFeatError.invalidConfiguration(
                "\(url.path): cannot create TensorBoard's event file; check that the folder is writable")
        }
        handle = try FileHandle(forWritingTo: url)
        var event = ProtobufWriter()
        event.double(1, wallTime)
        event.varint(2, 0)
        event.lengthDelimited(3, Array("brain.Event:2".utf8))
        try write(event.bytes)
        if let restart {
            // Event.session_log = 6 { status = 1: START }
            var log = ProtobufWriter()
            log.varint(1, 1)
            var start = ProtobufWriter()
            start.double(1, wallTime)
            start.varint(2, UInt64(bitPattern: Int64(restart)))
            start.lengthDelimited(6, log.bytes)
            try write(start.bytes)
        }
    }

    deinit { try? handle.close() }

    /// Adds scalar `value` under `tag` (`train/loss`, `test/accuracy`, …) at `step`.
    public func add(_ tag: String, _ value: Double, step: Int, wallTime: Double = Date().timeIntervalSince1970) throws {
        var scalar = ProtobufWriter()
        scalar.lengthDelimited(1, Array(tag.utf8))
        scalar.float(2, Float(value))
        var summary = ProtobufWriter()
        summary.lengthDelimited(1, scalar.bytes)
        var event = ProtobufWriter()
        event.double(1, wallTime)
        event.varint(2, UInt64(bitPattern: Int64(step)))
        event.lengthDelimited(5, summary.bytes)
        try write(event.bytes)
    }

    /// Adds each of `scalars` (tag, value) at `step`.
    public func add(_ scalars: [(tag: String, value: Double)], step: Int) throws {
        for (tag, value) in scalars { try add(tag, value, step: step) }
    }

    /// Adds `scalars` at `step` as a side record of training: a failed write is said once, as a warning, and the
    /// file is left as it stands, so that training — its results and checkpoints — goes on without it.
    public func addOrWarnOnce(_ scalars: [(tag: String, value: Double)], step: Int) {
        guard !lock.withLock({ failed }) else { return }
        do {
            try add(scalars, step: step)
        } catch {
            lock.withLock { failed = true }
            Log.warning("\(error); training goes on, without further TensorBoard events")
        }
    }

    private func write(_ data: [UInt8]) throws {
        do {
            try lock.withLock { try handle.write(contentsOf: Self.record(data)) }
        } catch {
            throw GradFeatError.invalidConfiguration(
                "\(url.path): cannot write TensorBoard's events (\(error)); check the disk")
        }
    }

    /// `data` framed as one TFRecord.
    public static func record(_ data: [UInt8]) -> [UInt8] {
        var length = withUnsafeBytes(of: UInt64(data.count).littleEndian, Array.init)
        length += withUnsafeBytes(of: maskedCRC32C(length).littleEndian, Array.init)
        return length + data + withUnsafeBytes(of: maskedCRC32C(data).littleEndian, Array.init)
    }

    /// TFRecord's masked CRC-32C.
    public static func maskedCRC32C(_ bytes: [UInt8]) -> UInt32 {
        let crc = crc32c(bytes)
        return ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }

    /// CRC-32C (Castagnoli), as in iSCSI and TFRecord; `crc32c("123456789") == 0xe3069283`.
    public static func crc32c(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = crcTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    private static let crcTable: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 == 1 ? 0x82F6_3B78 ^ (c >> 1) : c >> 1 }
        return c
    }
}

/// The protobuf wire format's few encodings the event file needs: varints, 64- and 32-bit fixed fields and
/// length-delimited bytes, each after its key `(field << 3) | wire type`.
struct ProtobufWriter {
    private(set) var bytes: [UInt8] = []

    private mutating func rawVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func varint(_ field: Int, _ value: UInt64) {
        rawVarint(UInt64(field << 3 | 0))
        rawVarint(value)
    }

    mutating func double(_ field: Int, _ value: Double) {
        rawVarint(UInt64(field << 3 | 1))
        bytes += withUnsafeBytes(of: value.bitPattern.littleEndian, Array.init)
    }

    mutating func float(_ field: Int, _ value: Float) {
        rawVarint(UInt64(field << 3 | 5))
        bytes += withUnsafeBytes(of: value.bitPattern.littleEndian, Array.init)
    }

    mutating func lengthDelimited(_ field: Int, _ value: [UInt8]) {
        rawVarint(UInt64(field << 3 | 2))
        rawVarint(UInt64(value.count))
        bytes += value
    }
}
