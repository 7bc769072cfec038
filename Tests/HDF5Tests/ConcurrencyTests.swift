// Many tasks using the module at once: every libhdf5 call must go through the one lock.

import Foundation
import HDF5
import Testing

@Suite struct ConcurrencyTests {
    @Test func concurrentReadsAndWritesFromManyTasks() async throws {
        try await withTemporaryDirectory { directory in
            let shared = directory.appendingPathComponent("shared.h5")
            let values = (0..<10_000).map { Float($0) }
            try HDF5File.writeAtomically(to: shared) { file in
                try file.createDataset("x", values: values, shape: [1000, 10], options: .compressed())
            }
            let dataset = try HDF5File(url: shared).dataset(named: "x")
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<8 {
                    group.addTask {
                        for round in 0..<20 {
                            let start = (task * 97 + round * 31) % 990
                            let rows: [Float] = try dataset.read(rows: start..<start + 10)
                            #expect(rows == Array(values[start * 10..<start * 10 + 100]))
                        }
                        let own = directory.appendingPathComponent("task\(task).h5")
                        try HDF5File.writeAtomically(to: own, format: "gradfeat.test", version: task) { file in
                            try file.createDataset("y", values: [Int64(task)])
                        }
                        try HDF5File(url: own).requireFormat("gradfeat.test", version: task)
                    }
                }
                try await group.waitForAll()
            }
        }
    }
}
