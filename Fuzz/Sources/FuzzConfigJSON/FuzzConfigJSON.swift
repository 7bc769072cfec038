// JSON config files (`--config run.json`): read into a ConfigLayer, resolved into an ExperimentSpec over the
// defaults, then validated, as the command-line tool does. Input: the file.
import FuzzSupport
import GradFeat

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    runFuzzInput(start, count) { input in
        Scratch.write(input.rest(), to: "run.json")
        let layer = try ConfigLayer.file(Scratch.url("run.json"))
        _ = layer.origin(of: layer.values.keys.sorted())
        let spec = try ExperimentSpec.resolve(defaults: ExperimentSpec(), file: layer, commandLine: ConfigLayer())
        try spec.validate()
    }
    return 0
}
