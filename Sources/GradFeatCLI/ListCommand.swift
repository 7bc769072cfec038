import ArgumentParser
import GradFeat

/// What is available by name: every registry, built-in and registered entries alike.
struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the models, extractors, heads and data sets GradFeat knows by name.")

    func run() throws {
        let plugins = GradFeatCLI.plugins
        print("models (input, default split → linearized layers):")
        for model in plugins.models.all {
            print(
                "  \(model.name)  \(model.inputShape.dimensions.map(String.init).joined(separator: "x")), "
                    + "\(model.defaultSplit) → \(model.defaultLinearize.joined(separator: ","))  — \(model.summary)")
        }
        print("extractors (needs):")
        for entry in plugins.extractors.all {
            let needs = entry.needs.map(\.rawValue).sorted().joined(separator: ", ")
            print("  \(entry.name)  (\(needs))  — \(entry.summary)")
            for (key, help) in entry.options.sorted(by: { $0.key < $1.key }) { print("      option \(key): \(help)") }
        }
        print("heads:")
        for entry in plugins.heads.all {
            print("  \(entry.name)  — \(entry.summary)")
            for (key, help) in entry.options.sorted(by: { $0.key < $1.key }) { print("      option \(key): \(help)") }
        }
        print("data sets (train / test split; any data-set cache FILE.h5 too):")
        for entry in plugins.datasets.all {
            print("  \(entry.name)  (\(entry.trainSplit) / \(entry.testSplit))  — \(entry.summary)")
        }
    }
}
