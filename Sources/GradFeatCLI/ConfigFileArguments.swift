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
    /// The subcommands that take `--config`, and the run keys each understands (pretrain's `--output` is the
    /// weights file it writes, not a run folder, so a config file does not set it).
    static let commands: [String: Set<String>] = [
        "train": Set(TrainingConfiguration.runKeys.map(\.key)),
        "finetune": Set(TrainingConfiguration.runKeys.map(\.key)).subtracting(["mode"]),
        "pretrain": ["dataset", "data_dir", "image_size", "train_size", "test_size", "model", "weights"],
    ]
    /// Run keys whose value is a whole number, and those that take a list.
    static let integerKeys: Set<String> = ["image_size", "train_size", "test_size"]
    static let listKeys: Set<String> = ["mode", "linearize"]

    /// `arguments` (without the program name) with the config file's run keys inserted after the subcommand, as
    /// `--option=value`. With `--help` the arguments pass unchanged (help needs no readable file).
    static func expand(_ arguments: [String]) throws -> [String] {
        guard let command = arguments.first, let known = commands[command],
            let path = configPath(in: arguments),
            !arguments.contains(where: { ["--help", "-h", "help"].contains($0) })
        else { return arguments }
        let mapping = try TrainingConfiguration.fileMapping(contentsOf: URL(fileURLWithPath: path))
        var inserted: [String] = []
        for (key, option) in TrainingConfiguration.runKeys {
            guard let value = mapping[key] else { continue }
            guard known.contains(key) else {
                throw ValidationError(
                    "config file \(path): '\(key)' does not apply to `gradfeat \(command)`; remove it, or pass it "
                        + "to a command that takes it (`gradfeat train`)")
            }
            inserted.append("\(option)=\(try text(value, key: key, path: path))")
        }
        return [command] + inserted + arguments.dropFirst()
    }

    /// The value of the last `--config PATH` or `--config=PATH` (the one ArgumentParser keeps).
    private static func configPath(in arguments: [String]) -> String? {
        var path: String?
        for (i, argument) in arguments.enumerated() {
            if argument == "--config", i + 1 < arguments.count { path = arguments[i + 1] }
            if argument.hasPrefix("--config=") { path = String(argument.dropFirst("--config=".count)) }
        }
        return path
    }

    /// A value as the option's text: a list, or a comma-separated string, for `listKeys` (trimmed, empty entries
    /// dropped); a whole number for `integerKeys`; a string otherwise.
    private static func text(_ value: Any, key: String, path: String) throws -> String {
        func failure(_ expected: String) -> ValidationError {
            ValidationError("config file \(path): '\(key)' must be \(expected), not \(value)")
        }
        if listKeys.contains(key) {
            let items: [Any] = (value as? [Any]) ?? (value as? String).map { [$0] } ?? []
            let names = try items.flatMap { item -> [String] in
                guard let name = item as? String else { throw failure("a list of names") }
                return commaSeparatedNames(name)
            }
            guard !names.isEmpty else { throw failure("a list of names") }
            return names.joined(separator: ",")
        }
        if integerKeys.contains(key) {
            guard let number = value as? NSNumber, number.doubleValue == number.doubleValue.rounded(),
                number.doubleValue >= 0
            else { throw failure("a whole number") }
            return String(number.intValue)
        }
        guard let string = value as? String else { throw failure("a string") }
        return string
    }
}
