// MATLAB level-5 MAT-files: parsed in memory, and loaded as an SVHN file (variables X and y).
import Datasets
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    runFuzzInput(start, count) { input in
        let bytes = input.rest()
        attempt {
            let file = try MATFile(bytes: bytes, path: "input.mat")
            for name in file.variables.keys { _ = try file.variable(name).storage.doubles }
        }
        let path = Scratch.write(bytes, to: "train_32x32.mat")
        _ = try SVHN.load(path: path)
    }
    return 0
}
