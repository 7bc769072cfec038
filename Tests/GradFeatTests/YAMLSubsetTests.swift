import Foundation
import GradFeat
import Testing

/// The YAML-subset reader, its refusals (each naming the line), and configuration files in YAML and JSON.
@Suite struct YAMLSubsetTests {
    typealias Value = YAMLSubset.Value

    @Test func readsMappingsListsAndScalars() throws {
        let text = """
            ---
            # the released code's keys
            optim: sgd          # a comment
            lr: 0.1
            wd: 5e-5
            niter: 50000
            clip: ~
            shuffle: true
            name: "conv5 # not a comment"
            quote: 'it''s'
            plain: it's fine, really?
            escaped: "a\\tb\\u00e9"
            hex: 0x1F
            negative: -3
            half: .5
            linearize: [conv4, "conv5", 3]
            nested: [[1, 2], []]
            layers:
              - conv4
              - conv5
            level:
            - a
            - b
            model:
              name: bigan-cifar
              width: 2
            empty:
            """
        let value = try YAMLSubset.parse(text, file: "run.yaml")
        let expected: Value = .mapping([
            "optim": .string("sgd"), "lr": .double(0.1), "wd": .double(5e-5), "niter": .int(50_000), "clip": .null,
            "shuffle": .bool(true), "name": .string("conv5 # not a comment"), "quote": .string("it's"),
            "plain": .string("it's fine, really?"), "escaped": .string("a\tbé"), "hex": .int(31), "negative": .int(-3),
            "half": .double(0.5), "linearize": .list([.string("conv4"), .string("conv5"), .int(3)]),
            "nested": .list([.list([.int(1), .int(2)]), .list([])]),
            "layers": .list([.string("conv4"), .string("conv5")]), "level": .list([.string("a"), .string("b")]),
            "model": .mapping(["name": .string("bigan-cifar"), "width": .int(2)]), "empty": .null,
        ])
        #expect(value == expected)
        #expect(try YAMLSubset.parse("") == .null)
        #expect(try YAMLSubset.parse("# only a comment\n\n") == .null)
        #expect(try YAMLSubset.parse("key: value\r\nother: 1\r\n") == .mapping(["key": .string("value"), "other": .int(1)]))
    }

    @Test func plainScalarsResolveAsYAMLCoreSchema() throws {
        func resolve(_ text: String) throws -> Value {
            guard case let .mapping(entries) = try YAMLSubset.parse("k: \(text)") else { return .null }
            return entries["k"] ?? .null
        }
        #expect(try resolve("1e-3") == .double(1e-3))
        #expect(try resolve("+2") == .int(2))
        #expect(try resolve("2.") == .double(2))
        #expect(try resolve("False") == .bool(false))
        #expect(try resolve("NULL") == .null)
        #expect(try resolve("yes") == .string("yes"))  // YAML 1.2: not a boolean
        #expect(try resolve("1_000") == .string("1_000"))
        #expect(try resolve("-.inf") == .double(-.infinity))
        #expect(try resolve("\"0.1\"") == .string("0.1"))
    }

    /// Each refusal names the file and the line, and says what to write instead.
    @Test(arguments: [
        ("a: 1\n\tb: 2\n", 2, "tab"),
        ("a: &anchor 1\n", 1, "anchor"),
        ("a: 1\nb: *anchor\n", 2, "alias"),
        ("a: !!str 1\n", 1, "tag"),
        ("a: |\n  line one\n  line two\n", 1, "multi-line string"),
        ("a: >\n  folded\n", 1, "multi-line string"),
        ("a: one\n  two\n", 2, "continues"),
        ("a: {b: 1}\n", 1, "flow mapping"),
        ("a:\n  - b: 1\n", 2, "mapping inside a list item"),
        ("a: [1, 2\n", 1, "unclosed '['"),
        ("a: \"open\n", 1, "unclosed double-quoted"),
        ("a: 1\na: 2\n", 2, "appears twice"),
        ("a: 1\n---\nb: 2\n", 2, "second document"),
        ("a: 1\n  b: 2\n", 2, "continues"),
        ("a:\n  b: 1\n c: 2\n", 3, "unexpected indentation"),
        ("a: 1\njust text\n", 2, "expected 'key: value'"),
        ("a: b: c\n", 1, "': ' inside the value"),
        ("a: \"x\\q\"\n", 1, "unknown escape"),
    ])
    func unsupportedSyntaxNamesTheLine(text: String, line: Int, problem: String) {
        let error = #expect(throws: YAMLSubset.Error.self) { try YAMLSubset.parse(text, file: "run.yaml") }
        #expect(error?.line == line, "\(error?.description ?? "no error")")
        #expect(error?.description.hasPrefix("run.yaml:\(line): ") == true)
        #expect(error?.problem.contains(problem) == true, "\(error?.description ?? "no error")")
        #expect(error?.fix.isEmpty == false)
    }

    // MARK: - Configuration files

    /// A fresh folder for a test's files; the test removes it.
    static func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gradfeat-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func write(_ text: String, _ name: String, in folder: URL) throws -> URL {
        let url = folder.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url
    }

    @Test func yamlAndJSONFilesGiveEqualConfigurations() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let yaml = try Self.write("""
            # The released code's full-model optimiser.
            optim: sgd
            lr: 0.1
            wd: 5e-5
            momentum: 0.9
            batchsize: 128
            niter: 50000
            stepsize: 10000
            stepfactor: 0.5
            clip: 10
            eval_every: 5000
            seed: 3
            """, "run.yaml", in: folder)
        let json = try Self.write("""
            {"optim": "sgd", "lr": 0.1, "wd": 5e-5, "momentum": 0.9, "batchsize": 128, "niter": 50000,
             "stepsize": 10000, "stepfactor": 0.5, "clip": 10, "eval_every": 5000, "seed": 3}
            """, "run.json", in: folder)
        let base = TrainingConfiguration.paper(iterations: 100)
        let fromYAML = try TrainingConfiguration(contentsOf: yaml, over: base)
        let fromJSON = try TrainingConfiguration(contentsOf: json, over: base)
        #expect(fromYAML == fromJSON)
        var expected = TrainingConfiguration.releasedCode(iterations: 50_000, seed: 3)
        expected.beta1 = base.beta1  // not in the files: the base's
        expected.evaluateEvery = 5_000
        #expect(fromYAML == expected)
        let yml = try Self.write("optim: sgd\nlr: 0.1\n", "short.yml", in: folder)
        #expect(try TrainingConfiguration(contentsOf: yml, over: base).learningRate == 0.1)
        let empty = try Self.write("# nothing set\n", "empty.yaml", in: folder)
        #expect(try TrainingConfiguration(contentsOf: empty, over: base) == base)
    }

    /// The README's example configuration, in both formats.
    @Test func exampleConfigurationsAgree() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Examples/configs")
        let base = TrainingConfiguration.releasedCode()
        let yaml = try TrainingConfiguration(contentsOf: folder.appendingPathComponent("cifar10-gradfeat.yaml"), over: base)
        let json = try TrainingConfiguration(contentsOf: folder.appendingPathComponent("cifar10-gradfeat.json"), over: base)
        #expect(yaml == json)
        var expected = TrainingConfiguration.paper(iterations: 5_000)
        expected.evaluateEvery = 1_000
        #expect(yaml == expected)
    }

    @Test func badConfigurationFilesNameTheFileAndTheKey() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let base = TrainingConfiguration.paper()
        let cases: [(text: String, name: String, message: String)] = [
            ("learning_rate: 0.1\n", "a.yaml", "unknown key 'learning_rate'"),
            ("lr: fast\n", "b.yaml", "'lr' must be a number"),
            ("optim: rmsprop\n", "c.yaml", "adam or sgd"),
            ("{\"lr\": }", "d.json", "not valid JSON"),
            ("lr: 0.1\n", "e.toml", "name it .json, .yaml or .yml"),
            ("- lr\n", "f.yaml", "expected a mapping"),
        ]
        for (text, name, message) in cases {
            let url = try Self.write(text, name, in: folder)
            let error = #expect(throws: GradFeatError.self) { try TrainingConfiguration(contentsOf: url, over: base) }
            #expect(error?.description.contains(url.path) == true, "\(error?.description ?? "")")
            #expect(error?.description.contains(message) == true, "\(error?.description ?? "")")
        }
        let anchor = try Self.write("lr: 0.1\nwd: &w 1e-4\n", "g.yaml", in: folder)
        let error = #expect(throws: YAMLSubset.Error.self) { try TrainingConfiguration(contentsOf: anchor, over: base) }
        #expect(error?.description.hasPrefix("\(anchor.path):2: ") == true)
    }
}
