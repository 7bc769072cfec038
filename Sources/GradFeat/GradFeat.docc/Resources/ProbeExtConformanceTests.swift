import GradFeat
import GradFeatTesting
import ProbeExt
import Testing

@Suite struct ProbeExtConformanceTests {
    /// Gradients against finite differences, determinism, checkpoint round trip, wrong shapes thrown.
    @Test func keepsGradFeatsExtractorContract() throws {
        try ExtractorConformance.check(ProbeExtExtractor.plugin)
    }

    @Test func keepsTheContractAtAnotherWidth() throws {
        try ExtractorConformance.check(
            ProbeExtExtractor.plugin, options: PluginOptions(["width": .int(7)]))
    }

    @Test func refusesBadOptions() {
        #expect(throws: (any Error).self) {
            try ExtractorConformance.check(
                ProbeExtExtractor.plugin, options: PluginOptions(["width": .int(0)]))
        }
        #expect(throws: ConfigError.self) {
            try ExtractorConformance.check(
                ProbeExtExtractor.plugin, options: PluginOptions(["width": .string("wide")]))
        }
        #expect(throws: ConfigError.self) {
            try ExtractorConformance.check(
                ProbeExtExtractor.plugin, options: PluginOptions(["depth": .int(2)]))
        }
    }
}
