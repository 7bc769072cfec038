// The files we write are readable by the reference tool, h5dump.

import Foundation
import HDF5
import Testing

private let h5dump = "/usr/bin/h5dump"

@Suite struct H5DumpTests {
    /// Runs h5dump with `arguments` and returns its standard output.
    private func dump(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: h5dump)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        #expect(process.terminationStatus == 0, "h5dump failed:\n\(text)")
        return text
    }

    @Test(
        .enabled(
            if: FileManager.default.isExecutableFile(atPath: h5dump), "h5dump not installed (apt install hdf5-tools)"))
    func h5dumpReadsOurFiles() throws {
        try withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("dump.h5")
            try HDF5File.writeAtomically(to: url, format: "gradfeat.dumptest", version: 2) { file in
                try file.setAttribute("classes", ["cat", "dog"])
                try file.setAttribute("mean", [0.25, 0.5])
                let group = try file.createGroup("train")
                let labels = try group.createDataset("labels", values: [3, 1, 4, 1, 5, 9] as [Int32], shape: [2, 3])
                try labels.setAttribute("units", "class index", stringStorage: .fixedLength)
                let options = DatasetOptions(
                    chunkShape: [2, 2], compression: .deflate(level: 5), shuffle: true, extendable: true)
                try group.createDataset("features", elementType: .float32, shape: [0, 2], options: options)
                    .append([0.5, -1.5, 2.25, 8] as [Float])
            }
            let text = try dump([url.path])
            for expected in [
                "ATTRIBUTE \"format\"", "\"gradfeat.dumptest\"", "ATTRIBUTE \"version\"", "(0): 2",
                "\"cat\", \"dog\"", "(0): 0.25, 0.5",
                "DATASET \"labels\"", "H5T_STD_I32LE", "SIMPLE { ( 2, 3 ) / ( 2, 3 ) }",
                "(0,0): 3, 1, 4,", "(1,0): 1, 5, 9", "\"class index\"",
                "DATASET \"features\"", "SIMPLE { ( 2, 2 ) / ( H5S_UNLIMITED, 2 ) }", "(0,0): 0.5, -1.5,",
                "(1,0): 2.25, 8",
            ] {
                #expect(text.contains(expected), "h5dump output lacks \(expected):\n\(text)")
            }
            let properties = try dump(["-p", "-d", "/train/features", url.path])
            for expected in ["CHUNKED ( 2, 2 )", "SHUFFLE", "COMPRESSION DEFLATE { LEVEL 5 }"] {
                #expect(properties.contains(expected), "h5dump -p output lacks \(expected):\n\(properties)")
            }
        }
    }
}
