// Dataset round trips, row selections, chunking, filters and appends.

import Foundation
import HDF5
import Testing

@Suite struct DatasetTests {
    /// Writes `values` as a [rows, 3] dataset of `T`, reopens the file and reads them back.
    private func roundTrip<T: HDF5Scalar & Equatable>(_ values: [T], in directory: URL) throws {
        let url = directory.appendingPathComponent("\(T.self).h5")
        try HDF5File.writeAtomically(to: url) { file in
            try file.createDataset("data", values: values, shape: [values.count / 3, 3])
        }
        let dataset = try HDF5File(url: url).dataset(named: "data")
        #expect(dataset.elementType == T.hdf5ElementType)
        #expect(dataset.shape == [values.count / 3, 3])
        #expect(try dataset.read(as: T.self) == values)
    }

    @Test(arguments: HDF5ElementType.allCases)
    func roundTripEveryElementType(_ type: HDF5ElementType) throws {
        try withTemporaryDirectory { directory in
            switch type {
            case .uint8: try roundTrip([0, 1, 2, 127, 128, 255] as [UInt8], in: directory)
            case .int8: try roundTrip([-128, -1, 0, 1, 2, 127] as [Int8], in: directory)
            case .uint16: try roundTrip([0, 1, 2, 300, 40000, 65535] as [UInt16], in: directory)
            case .int16: try roundTrip([-32768, -1, 0, 1, 300, 32767] as [Int16], in: directory)
            case .uint32: try roundTrip([0, 1, 2, 70000, 1 << 31, .max] as [UInt32], in: directory)
            case .int32: try roundTrip([.min, -1, 0, 1, 70000, .max] as [Int32], in: directory)
            case .uint64: try roundTrip([0, 1, 2, 1 << 40, 1 << 63, .max] as [UInt64], in: directory)
            case .int64: try roundTrip([.min, -1, 0, 1, 1 << 40, .max] as [Int64], in: directory)
            case .float32:
                try roundTrip([-1.5, 0, 1e-30, 3.25, .pi, .greatestFiniteMagnitude] as [Float], in: directory)
            case .float64:
                try roundTrip([-1.5, 0, 1e-300, 3.25, .pi, .greatestFiniteMagnitude] as [Double], in: directory)
            case .float16:
                // Stored as IEEE half precision, transferred through Float.
                let url = directory.appendingPathComponent("half.h5")
                let values: [Float] = [0, 1, -2, 0.5, 1024, 65504]
                try HDF5File.writeAtomically(to: url) { file in
                    try file.createDataset("data", elementType: .float16, shape: [2, 3]).write(values)
                }
                let dataset = try HDF5File(url: url).dataset(named: "data")
                #expect(dataset.elementType == .float16)
                #expect(try dataset.read(as: Float.self) == values)
                #expect(try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int ?? 0 > 0)
            }
        }
    }

    @Test func scalarAndEmptyDatasets() throws {
        try withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("shapes.h5")
            try HDF5File.writeAtomically(to: url) { file in
                try file.createDataset("scalar", values: [42.5], shape: [])
                try file.createDataset("empty", values: [Float](), shape: [0, 4])
            }
            let file = try HDF5File(url: url)
            let scalar = try file.dataset(named: "scalar")
            #expect(scalar.shape == [])
            #expect(try scalar.read(as: Double.self) == [42.5])
            #expect(throws: HDF5Error.self) { try scalar.read(rows: 0..<1, as: Double.self) }
            let empty = try file.dataset(named: "empty")
            #expect(empty.shape == [0, 4])
            #expect(try empty.read(as: Float.self) == [])
        }
    }

    @Test func rowRangesReadAndWrite() throws {
        try withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("rows.h5")
            let values = (0..<40).map(Int32.init) // 10 rows of 4
            try HDF5File.writeAtomically(to: url) { file in
                let dataset = try file.createDataset("x", elementType: .int32, shape: [10, 4])
                try dataset.write(rows: 0, Array(values[0..<24]))
                try dataset.write(rows: 6, Array(values[24...]))
                #expect(throws: HDF5Error.self) { try dataset.write(rows: 8, Array(values[0..<12])) }
                #expect(throws: HDF5Error.self) { try dataset.write(rows: 0, Array(values[0..<5])) }
            }
            let dataset = try HDF5File(url: url).dataset(named: "x")
            #expect(try dataset.read(as: Int32.self) == values)
            #expect(try dataset.read(rows: 2..<5, as: Int32.self) == Array(values[8..<20]))
            #expect(try dataset.read(rows: 9..<10, as: Int32.self) == Array(values[36..<40]))
            #expect(try dataset.read(rows: 3..<3, as: Int32.self) == [])

            var batch = [Int32](repeating: -1, count: 8)
            try batch.withUnsafeMutableBufferPointer { try dataset.read(rows: 1..<3, into: $0) }
            #expect(batch == Array(values[4..<12]))

            let error = #expect(throws: HDF5Error.self) { try dataset.read(rows: 8..<11, as: Int32.self) }
            guard case .rowsOutOfRange(_, "/x", _, 10)? = error else {
                Issue.record("expected rowsOutOfRange, got \(String(describing: error))")
                return
            }
        }
    }

    @Test func indexListsReadInRequestedOrder() throws {
        try withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("index.h5")
            let rows = 50, width = 6
            let values = (0..<rows * width).map { Float($0) }
            try HDF5File.writeAtomically(to: url) { file in
                try file.createDataset("x", values: values, shape: [rows, 2, 3], options: .compressed())
            }
            let dataset = try HDF5File(url: url).dataset(named: "x")
            func expected(_ indices: [Int]) -> [Float] {
                indices.flatMap { values[$0 * width..<($0 + 1) * width] }
            }
            for indices in [[7, 3, 9], [0, 1, 2, 10, 11, 49], [49, 0], [5, 5, 2, 5], [], [12]] {
                #expect(try dataset.read(rowIndices: indices, as: Float.self) == expected(indices))
            }
            var generator = SystemRandomNumberGenerator()
            let shuffled = Array((0..<rows).shuffled(using: &generator).prefix(30))
            #expect(try dataset.read(rowIndices: shuffled, as: Float.self) == expected(shuffled))
            #expect(throws: HDF5Error.self) { try dataset.read(rowIndices: [3, 50], as: Float.self) }
            #expect(throws: HDF5Error.self) { try dataset.read(rowIndices: [-1], as: Float.self) }
        }
    }

    @Test func indexListsWrite() throws {
        try withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("scatter.h5")
            try HDF5File.writeAtomically(to: url) { file in
                let dataset = try file.createDataset("x", values: [Int64](repeating: 0, count: 12), shape: [6, 2])
                try dataset.write(rowIndices: [4, 1, 2], [40, 41, 10, 11, 20, 21] as [Int64])
                #expect(throws: HDF5Error.self) { try dataset.write(rowIndices: [1, 1], [1, 2, 3, 4] as [Int64]) }
                #expect(throws: HDF5Error.self) { try dataset.write(rowIndices: [1, 2], [1, 2] as [Int64]) }
            }
            let dataset = try HDF5File(url: url).dataset(named: "x")
            #expect(try dataset.read(as: Int64.self) == [0, 0, 10, 11, 20, 21, 0, 0, 40, 41, 0, 0])
        }
    }

    @Test func chunkedGzipShuffleDatasets() throws {
        try withTemporaryDirectory { directory in
            let plain = directory.appendingPathComponent("plain.h5")
            let packed = directory.appendingPathComponent("packed.h5")
            let values = (0..<200_000).map { UInt8(($0 / 100) % 7) } // compressible
            try HDF5File.writeAtomically(to: plain) { file in
                try file.createDataset("x", values: values, shape: [2000, 100])
            }
            try HDF5File.writeAtomically(to: packed) { file in
                let options = DatasetOptions(chunkShape: [64, 100], compression: .deflate(level: 6), shuffle: true)
                try file.createDataset("x", values: values, shape: [2000, 100], options: options)
                try file.createDataset("auto", values: values, shape: [2000, 100], options: .compressed(level: 1))
            }
            let size = { (url: URL) in try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int ?? 0 }
            #expect(try size(packed) * 5 < size(plain))
            let file = try HDF5File(url: packed)
            #expect(try file.dataset(named: "x").read(as: UInt8.self) == values)
            #expect(
                try file.dataset(named: "auto").read(rows: 1500..<1502, as: UInt8.self)
                    == Array(values[150_000..<150_200]))
            #expect(throws: HDF5Error.self) {
                try file.createDataset("bad", elementType: .uint8, shape: [4], options: .compressed(level: 12))
            }
        }
    }

    @Test func appendToExtendableDatasets() throws {
        try withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("append.h5")
            try HDF5File.writeAtomically(to: url) { file in
                let dataset = try file.createDataset(
                    "features", elementType: .float32, shape: [0, 3], options: .compressed(extendable: true))
                #expect(dataset.isExtendable)
                try dataset.append([1, 2, 3] as [Float])
                try dataset.append([4, 5, 6, 7, 8, 9] as [Float])
                #expect(dataset.shape == [3, 3])
                #expect(throws: HDF5Error.self) { try dataset.append([1, 2] as [Float]) }
                #expect(throws: HDF5Error.self) { try dataset.append([1, 2, 3] as [Double]) }
                let fixed = try file.createDataset("fixed", values: [1, 2] as [Float])
                #expect(throws: HDF5Error.self) { try fixed.append([3] as [Float]) }
            }
            let file = try HDF5File(url: url, mode: .readWrite)
            let dataset = try file.dataset(named: "features")
            #expect(dataset.isExtendable)
            try dataset.append([10, 11, 12] as [Float])
            #expect(dataset.shape == [4, 3])
            #expect(try dataset.read(as: Float.self) == (1...12).map(Float.init))
        }
    }

    @Test func dtypeMismatchIsRefusedNotOverrun() throws {
        try withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("mismatch.h5")
            try HDF5File.writeAtomically(to: url) { file in
                try file.createDataset("weights", values: [1.5, 2.5, 3.5] as [Double])
            }
            let dataset = try HDF5File(url: url).dataset(named: "weights")
            let error = #expect(throws: HDF5Error.self) { try dataset.read(as: Float.self) }
            guard case .typeMismatch(let file, let path, let expected, let found)? = error else {
                Issue.record("expected typeMismatch, got \(String(describing: error))")
                return
            }
            #expect(file == url.path)
            #expect(path == "/weights")
            #expect(expected.contains("float32"))
            #expect(found == "float64")
            #expect(error?.description.contains("readAsFloat") == true)
            #expect(throws: HDF5Error.self) { try dataset.read(rows: 0..<1, as: Int64.self) }
            #expect(throws: HDF5Error.self) { try dataset.read(rowIndices: [0], as: UInt8.self) }
            #expect(try dataset.readAsFloat() == [1.5, 2.5, 3.5])
            #expect(try dataset.readAsFloat(rows: 1..<3) == [2.5, 3.5])
        }
    }

    @Test func writeCountMismatchIsRefused() throws {
        try withTemporaryDirectory { directory in
            try HDF5File.writeAtomically(to: directory.appendingPathComponent("count.h5")) { file in
                let dataset = try file.createDataset("x", elementType: .int32, shape: [2, 3])
                let error = #expect(throws: HDF5Error.self) { try dataset.write([1, 2, 3, 4, 5] as [Int32]) }
                guard case .shapeMismatch(_, "/x", _, _)? = error else {
                    Issue.record("expected shapeMismatch, got \(String(describing: error))")
                    return
                }
                #expect(throws: HDF5Error.self) { try dataset.write([1, 2, 3, 4, 5, 6] as [Int64]) }
                #expect(throws: HDF5Error.self) {
                    try file.createDataset("y", values: [1, 2, 3] as [Float], shape: [2, 2])
                }
            }
        }
    }
}
