import Foundation

/// Loader for image-folder data sets: `root/<split>/<class>/*.{jpg,jpeg,png}`.
///
/// The tree may be a folder on disk or a `.tar.gz` read in place, and may sit under a prefix (the
/// shared CIFAR archives hold `cifar10/train/<class>/NNNN.jpg`). Class order comes from a class list
/// beside the split folders (`labels.txt`, or `fine_labels.txt` / `classes.txt`; one name a line)
/// when present, else from the sorted folder names. Images are sorted by class, then by path, so
/// the order does not depend on the file system or the archive.
public enum ImageFolder {
    /// File extensions read as images (case-insensitive).
    public static let imageExtensions: Set<String> = ["jpg", "jpeg", "png"]
    /// Names of class-list files, in order of preference.
    public static let classListNames = ["labels.txt", "fine_labels.txt", "classes.txt"]
    /// Split folder names whose class folders together give the class order when there is no class list, so that a
    /// split lacking a class (a test set without "cat") keeps every other class's index.
    public static let commonSplitNames: Set<String> = ["train", "test", "val", "valid", "validation", "trainval"]

    /// Loads one split of an image-folder tree.
    ///
    /// - Parameters:
    ///   - path: the folder or `.tar`/`.tar.gz` archive containing `<split>/<class>/…`
    ///     (possibly under one prefix folder).
    ///   - split: the split folder name, such as `"train"` or `"test"`.
    ///   - channels: 3 for RGB (grey files are expanded), 1 for grey (colour files are converted).
    ///   - size: output size; `nil` keeps the size of the first image and resizes any other size.
    ///   - mode: how images of another aspect ratio are fitted to `size`.
    ///   - classNames: explicit class order; overrides any class list in the tree.
    ///   - threads: decoding threads (`nil`: all active processors).
    public static func load(
        from path: String, split: String, channels: Int = 3, size: ImageSize? = nil,
        mode: ImageResampler.ResizeMode = .stretch, classNames: [String]? = nil,
        threads: Int? = nil
    ) throws(DatasetError) -> ImageSet {
        try load(
            from: path, splits: [split], channels: channels, size: size, mode: mode,
            classNames: classNames, threads: threads)[0]
    }

    /// Loads several splits in one pass over the tree (an archive is decompressed once), with the
    /// same options as ``load(from:split:channels:size:mode:classNames:threads:)``.
    ///
    /// - Returns: one set per split, in the order of `splits`.
    public static func load(
        from path: String, splits: [String], channels: Int = 3, size: ImageSize? = nil,
        mode: ImageResampler.ResizeMode = .stretch, classNames: [String]? = nil,
        threads: Int? = nil
    ) throws(DatasetError) -> [ImageSet] {
        var sets: [ImageSet] = []
        for set in try encoded(
            from: path, splits: splits, channels: channels, size: size, mode: mode,
            classNames: classNames, threads: threads)
        {
            sets.append(try set.decoded())
        }
        return sets
    }

    /// The splits as ``load(from:splits:channels:size:mode:classNames:threads:)`` finds them, their images still
    /// encoded: decode them whole or a part at a time (``EncodedImageSet``).
    public static func encoded(
        from path: String, splits: [String], channels: Int = 3, size: ImageSize? = nil,
        mode: ImageResampler.ResizeMode = .stretch, classNames: [String]? = nil,
        threads: Int? = nil
    ) throws(DatasetError) -> [EncodedImageSet] {
        let tree = try FileTree(path: path)
        let wanted = Set(splits)
        let splitFolders = wanted.union(commonSplitNames)
        var allClassFolders: [String: Set<String>] = [:] // prefix → class folders of every split folder under it
        let bundle = try tree.load { relative in
            let parts = relative.split(separator: "/", omittingEmptySubsequences: true)
            if let last = parts.last, classListNames.contains(String(last)) { return true }
            guard parts.count >= 3, isImageName(parts[parts.count - 1]) else { return false }
            let split = String(parts[parts.count - 3])
            if splitFolders.contains(split) {
                allClassFolders[parts.dropLast(3).joined(separator: "/"), default: []].insert(
                    String(parts[parts.count - 2]))
            }
            return wanted.contains(split)
        }
        var sets: [EncodedImageSet] = []
        for split in splits {
            sets.append(
                try assemble(
                    bundle, tree: tree, split: split, channels: channels, size: size, mode: mode,
                    classNames: classNames, allClassFolders: allClassFolders,
                    threads: threads ?? Parallel.defaultThreads))
        }
        return sets
    }

    private static func assemble(
        _ bundle: FileBundle, tree: FileTree, split: String, channels: Int, size: ImageSize?,
        mode: ImageResampler.ResizeMode, classNames: [String]?, allClassFolders: [String: Set<String>], threads: Int
    ) throws(DatasetError) -> EncodedImageSet {
        let path = tree.path
        // Group the images by prefix / class.
        var prefixes = Set<String>()
        var images: [(classFolder: String, path: String, index: Int)] = []
        for (index, relative) in bundle.paths.enumerated() {
            let parts = relative.split(separator: "/", omittingEmptySubsequences: true)
            guard parts.count >= 3, parts[parts.count - 3] == split, isImageName(parts.last!) else {
                continue
            }
            prefixes.insert(parts.dropLast(3).joined(separator: "/"))
            images.append((String(parts[parts.count - 2]), relative, index))
        }
        guard let prefix = prefixes.first else {
            throw .fileNotFound(
                path: path + " [" + split + "/<class>/*.jpg]",
                remedy: "No images found for split '\(split)': expected <split>/<class>/<image>.jpg "
                    + "(or .jpeg/.png) inside the folder or archive.")
        }
        if prefixes.count > 1 {
            throw .malformed(
                path: path, entry: nil,
                reason: "several '\(split)' folders (\(prefixes.sorted().joined(separator: ", "))); "
                    + "point the loader at one of them")
        }
        let folders = Set(images.map(\.classFolder)).sorted()
        var names = classNames
        var listPath = path
        if names == nil {
            for candidate in classListNames {
                let relative = prefix.isEmpty ? candidate : prefix + "/" + candidate
                if let text = bundle.text(at: relative) {
                    names = lines(text)
                    let place = tree.describe(relative)
                    listPath = place.entry.map { "\(path) [entry \($0)]" } ?? place.path
                    break
                }
            }
        }
        let classes = try ClassList.checked(
            names ?? allClassFolders[prefix, default: []].union(folders).sorted(), path: listPath)
        var classIndex: [String: Int] = [:]
        for (i, name) in classes.enumerated() { classIndex[name] = i }
        for folder in folders where classIndex[folder] == nil {
            throw .malformed(
                path: listPath, entry: nil,
                reason: "class folder '\(folder)' is not in the class list; add it to the list or "
                    + "remove the folder")
        }
        var ordered = images.map { (label: classIndex[$0.classFolder]!, path: $0.path, index: $0.index) }
        ordered.sort { a, b in a.label != b.label ? a.label < b.label : a.path < b.path }
        return try EncodedImageSet(
            bundle: bundle, tree: tree, files: ordered.map(\.index), channels: channels, size: size, mode: mode,
            threads: threads, labels: .single(ordered.map { Int64($0.label) }), classNames: classes, source: path,
            split: split)
    }

    /// Whether a file name has an image extension.
    static func isImageName(_ name: Substring) -> Bool {
        guard let dot = name.lastIndex(of: ".") else { return false }
        return imageExtensions.contains(name[name.index(after: dot)...].lowercased())
    }

    /// Non-empty, trimmed lines.
    static func lines(_ text: String) -> [String] {
        text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
    }
}
