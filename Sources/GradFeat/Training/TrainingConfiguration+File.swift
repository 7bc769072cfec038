extension TrainingConfiguration {
    /// The training keys a configuration file may set (those of checkpoints and `config.json` too).
    public static var fileKeys: [String] { CodingKeys.allCases.map(\.rawValue) }
}
