import Foundation
import GradFeat
import Testing

/// TensorBoard's event files: TFRecord framing with masked CRC-32C, and the scalars of a run equal to its
/// evaluation history (what metrics.csv holds), decoded here without TensorBoard.
@Suite struct TensorBoardTests {
    @Test func crc32cIsCastagnolis() {
        #expect(TensorBoardEvents.crc32c(Array("123456789".utf8)) == 0xE306_9283)
        #expect(TensorBoardEvents.crc32c([]) == 0)
        // 32 zero bytes: the iSCSI test vector (RFC 3720, B.4).
        #expect(TensorBoardEvents.crc32c([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
    }

    /// One decoded event: its step, wall time, file version and (tag, value) scalars.
    struct Event { var step: Int64 = 0, wallTime = 0.0, fileVersion: String?, scalars: [(String, Float)] = [] }

    /// The records of an event file, their CRCs checked, decoded as `tensorflow.Event`s.
    static func events(_ url: URL) throws -> [Event] {
        let bytes = [UInt8](try Data(contentsOf: url))
        func u32(_ at: Int) -> UInt32 {
            bytes[at..<(at + 4)].enumerated().reduce(0) { $0 | UInt32($1.element) << (8 * $1.offset) }
        }
        var events: [Event] = [], at = 0
        while at < bytes.count {
            let header = Array(bytes[at..<(at + 8)])
            let length = header.enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
            #expect(u32(at + 8) == TensorBoardEvents.maskedCRC32C(header), "length CRC at \(at)")
            let data = Array(bytes[(at + 12)..<(at + 12 + length)])
            #expect(u32(at + 12 + length) == TensorBoardEvents.maskedCRC32C(data), "data CRC at \(at)")
            events.append(try decodeEvent(data))
            at += 16 + length
        }
        return events
    }

    /// Fields of a protobuf message: (number, wire type, varint or fixed value, bytes).
    static func fields(_ data: [UInt8]) throws -> [(field: Int, varint: UInt64, bytes: [UInt8])] {
        var out: [(Int, UInt64, [UInt8])] = [], i = 0
        func varint() -> UInt64 {
            var value: UInt64 = 0, shift: UInt64 = 0
            while true {
                let b = data[i]; i += 1
                value |= UInt64(b & 0x7F) << shift
                if b < 0x80 { return value }
                shift += 7
            }
        }
        while i < data.count {
            let key = varint()
            switch key & 7 {
            case 0: out.append((Int(key >> 3), varint(), []))
            case 1: out.append((Int(key >> 3), 0, Array(data[i..<(i + 8)]))); i += 8
            case 5: out.append((Int(key >> 3), 0, Array(data[i..<(i + 4)]))); i += 4
            case 2:
                let n = Int(varint())
                out.append((Int(key >> 3), 0, Array(data[i..<(i + n)]))); i += n
            default: throw GradFeatError.invalidConfiguration("wire type \(key & 7)")
            }
        }
        return out
    }

    static func decodeEvent(_ data: [UInt8]) throws -> Event {
        var event = Event()
        func little<T: FixedWidthInteger>(_ b: [UInt8], as: T.Type) -> T {
            b.enumerated().reduce(T(0)) { $0 | T($1.element) << (8 * $1.offset) }
        }
        for f in try fields(data) {
            switch f.field {
            case 1: event.wallTime = Double(bitPattern: little(f.bytes, as: UInt64.self))
            case 2: event.step = Int64(bitPattern: f.varint)
            case 3: event.fileVersion = String(decoding: f.bytes, as: UTF8.self)
            case 5:
                for value in try fields(f.bytes) where value.field == 1 {
                    var tag = "", number = Float.nan
                    for part in try fields(value.bytes) {
                        if part.field == 1 { tag = String(decoding: part.bytes, as: UTF8.self) }
                        if part.field == 2 { number = Float(bitPattern: little(part.bytes, as: UInt32.self)) }
                    }
                    event.scalars.append((tag, number))
                }
            default: break
            }
        }
        return event
    }

    @Test func aRunsEventFilesHoldItsEvaluationsScalars() throws {
        let folder = try RunDirectoryTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let dataset = try StreamingTests.datasetCache(count: 300, in: folder)
        let run = folder.appendingPathComponent("run")
        // Twice into one folder: the second, fresh run replaces the first's events (one file, one line per tag).
        for _ in 0..<2 {
            try Experiment(StreamingTests.spec(dataset: dataset, output: run, iterations: 30, budget: nil), quiet: true)
                .run()
        }
        for extractor in ["activation", "gradfeat"] {
            let directory = run.appendingPathComponent("tensorboard/\(extractor)")
            let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            #expect(files.count == 1 && files[0].hasPrefix("events.out.tfevents."), "\(files)")
            let events = try Self.events(directory.appendingPathComponent(files[0]))
            #expect(events.first?.fileVersion == "brain.Event:2")
            let history = try CheckpointFile.load(RunDirectory(run).checkpoint(extractor)).state.history
            #expect(history.map(\.iteration) == [10, 20, 30])
            for record in history {
                let scalars = Dictionary(
                    events.filter { $0.step == record.iteration }.flatMap(\.scalars),
                    uniquingKeysWith: { a, _ in a })
                #expect(scalars["train/loss"] == Float(record.trainLoss), "\(extractor) \(record.iteration)")
                #expect(scalars["test/accuracy"] == record.testMetric.map(Float.init))
                #expect(scalars["test/loss"] == record.testLoss.map(Float.init))
                #expect(scalars["train/lr"] == record.learningRate)
                #expect((scalars["train/images_per_s"] ?? 0) > 0)
            }
        }
    }

    @Test func aResumedRunRestartsTensorBoardAtItsCheckpoint() throws {
        let folder = try RunDirectoryTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let events = try TensorBoardEvents(directory: folder)
        try events.add("train/loss", 1, step: 10)
        let resumed = try TensorBoardEvents(directory: folder, restartingAt: 10)
        try resumed.add("train/loss", 2, step: 20)
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(files.count == 2, "a resumed run keeps the earlier file")
        // The new file's second event is SessionLog START at step 10: field 6 holding status (field 1) = 1.
        let second = try [UInt8](Data(contentsOf: resumed.url))
        let headerLength = Int(second[0]) + 16
        let start = Array(second[(headerLength + 12)..<(headerLength + 12 + Int(second[headerLength]))])
        let fields = try Self.fields(start)
        #expect(fields.contains { $0.field == 2 && $0.varint == 10 })
        #expect(fields.contains { $0.field == 6 && $0.bytes == [0x08, 0x01] })
    }
}
