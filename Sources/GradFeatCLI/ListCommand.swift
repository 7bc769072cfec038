import ArgumentParser
import GradFeat

/// What is available by name.
struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the models, extractors and data sets GradFeat knows by name.")

    func run() throws {
        print("models (default split → linearized layers):")
        for model in ModelZoo.models {
            print("  \(model.name)  (\(model.split) → \(model.linearize.joined(separator: ",")))")
        }
        print("extractors:")
        for name in ExtractorRegistry.shared.names {
            let entry = try ExtractorRegistry.shared.entry(name)
            print("  \(name)  — \(entry.summary)")
        }
        print("data sets: \(DataCatalog.names.joined(separator: ", "))")
    }
}
