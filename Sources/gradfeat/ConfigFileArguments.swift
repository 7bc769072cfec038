import ArgumentParser
import Foundation
import GradFeat

/// The run keys of a `--config` file (`TrainingConfiguration.runKeys`: dataset, model, mode, linearize, …) as
/// command-line options, placed before the user's own so that those override the file (the last value of an option
/// wins). The training keys (optim, lr, …) are read by `TrainingOptions.configuration`.
///
/// ```yaml
/// dataset: cifar10
/// model: bigan-cifar
/// mode: [activation, gradfeat]   # gradfeat train --extractor activation,gradfeat
/// linearize: [conv4, conv5]
/// optim: sgd
/// lr: 0.1
/// ```
enum ConfigFileArguments {
    /// The subcommands that take `--config`, and the run keys each understands.
    static let commands: [String: Set<String>] = [
        "train": Set(TrainingConfiguration.runKeys.map(\.key)),
        "finetune": Set(TrainingConfiguration.runKeys.map(\.key)).subtracting(["mode"]),
    ]

    /// `arguments` (without the program name) with the config file's run keys inserted after the subcommand.
    static func expand(_ arguments: [String]) throws -> [String] {
        guard let command = arguments.first, let known = commands[command],
            let path = configPath(in: arguments)
        else { return arguments }
        let mapping = try TrainingConfiguration.fileMapping(contentsOf: URL(fileURLWithPath: path))
        var inserted: [String] = []
        for (key, option) in TrainingConfiguration.runKeys {
            guard let value = mapping[key] else { continue }
            guard known.contains(key) else {
                throw ValidationError(
                    "config file \(path): '\(key)' does not apply to `gradfeat \(command)`; remove it (or use `gradfeat train`)")
            }
            inserted += [option, try text(value, key: key, path: path)]
        }
        return [command] + inserted + arguments.dropFirst()
    }

    /// The value of `--config PATH` or `--config=PATH`.
    private static func configPath(in arguments: [String]) -> String? {
        for (i, argument) in arguments.enumerated() {
            if argument == "--config", i + 1 < arguments.count { return arguments[i + 1] }
            if argument.hasPrefix("--config=") { return String(argument.dropFirst("--config=".count)) }
        }
        return nil
    }

    /// A scalar as the option's text; a list as its comma-separated elements.
    private static func text(_ value: Any, key: String, path: String) throws -> String {
        switch value {
        case let list as [Any]: return try list.map { try text($0, key: key, path: path) }.joined(separator: ",")
        case let string as String: return string
        case let number as NSNumber: return number.stringValue
        default:
            throw ValidationError("config file \(path): '\(key)' must be a string, a number or a list of them")
        }
    }
}
