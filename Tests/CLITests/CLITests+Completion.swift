import ArgumentParser
import Testing

@testable import GradFeatCLI

/// Shell completions name what the registries hold, the last item of a comma-separated list included.
extension CLITests {
    @Test func completionsComeFromTheRegistries() throws {
        #expect(
            RegistryCompletion.completions(of: "activation,gra", from: ["gradient", "gradfeat", "finetune"])
                == ["activation,gradfeat", "activation,gradient"])
        #expect(RegistryCompletion.completions(of: "", from: ["b", "a"]) == ["a", "b"])
        let script = GradFeatCLI.completionScript(for: .bash)
        #expect(script.contains("---completion"), "the bash script does not ask gradfeat for registry names")
    }
}
