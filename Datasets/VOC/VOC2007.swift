import Foundation

/// PASCAL VOC 2007 multi-label classification (Everingham et al., 2010, "The PASCAL Visual Object
/// Classes (VOC) Challenge").
///
/// Reads a `VOCdevkit/VOC2007` tree, extracted or as a `.tar`/`.tar.gz` read in place:
///
/// ```
/// ImageSets/Main/<split>.txt           one image id a line
/// ImageSets/Main/<class>_<split>.txt   "<id> <flag>", flag 1 present, -1 absent, 0 difficult only
/// Annotations/<id>.xml                 objects with <name> and <difficult> (optional)
/// JPEGImages/<id>.jpg
/// ```
///
/// Labels are a `[N, 20]` multi-label matrix in ``classNames`` order with our encoding
/// `1` present, `0` absent, `-1` difficult (VOC flag 1 → 1, -1 → 0, 0 → -1). From XML
/// annotations a class is present when it has a non-difficult object, difficult when all its
/// objects are difficult. Images are resized to one size so the set fits one `[N, 3, H, W]` array.
public enum VOC2007 {
    /// The 20 classes in the standard order.
    public static let classNames = [
        "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
        "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa",
        "train", "tvmonitor",
    ]

    /// Where the labels come from.
    public enum LabelSource: Sendable, Equatable {
        /// `Annotations/*.xml` when the tree has any, else the `ImageSets/Main` class lists.
        case automatic
        /// `Annotations/<id>.xml` (each image of the split must have one).
        case annotations
        /// `ImageSets/Main/<class>_<split>.txt`.
        case imageSets
    }

    /// One object of an annotation file.
    public struct Object: Sendable, Equatable {
        /// Class name.
        public var name: String
        /// Whether the object is marked difficult.
        public var difficult: Bool
    }

    /// Loads a split of VOC 2007.
    ///
    /// - Parameters:
    ///   - path: a `VOCdevkit` folder (or `VOC2007` inside it, or their parent), or the `.tar.gz`.
    ///   - split: `"train"`, `"val"`, `"trainval"` or `"test"`.
    ///   - size: output image size (every image is resized to it).
    ///   - mode: how images are fitted to `size` (default: stretched).
    ///   - labelSource: XML annotations or `ImageSets` class lists.
    ///   - threads: decoding threads (`nil`: all active processors).
    public static func load(
        from path: String, split: String = "train", size: ImageSize = ImageSize(224),
        mode: ImageResampler.ResizeMode = .stretch, labelSource: LabelSource = .automatic,
        threads: Int? = nil
    ) throws(DatasetError) -> ImageSet {
        try encoded(from: path, split: split, size: size, mode: mode, labelSource: labelSource, threads: threads)
            .decoded()
    }

    /// The split as ``load(from:split:size:mode:labelSource:threads:)`` finds it, its images still encoded: decode
    /// them whole or a part at a time (``EncodedImageSet``).
    public static func encoded(
        from path: String, split: String = "train", size: ImageSize = ImageSize(224),
        mode: ImageResampler.ResizeMode = .stretch, labelSource: LabelSource = .automatic,
        threads: Int? = nil
    ) throws(DatasetError) -> EncodedImageSet {
        let tree = try FileTree(path: path)
        let listSuffix = "ImageSets/Main/\(split).txt"
        var ids: Set<String>?
        var listPath: String?
        var pendingList: String?
        let bundle = try tree.load { relative, loaded in
            if ids == nil, let list = pendingList, let text = loaded.text(at: list) {
                ids = Set(ImageFolder.lines(text))
                listPath = list
            }
            if relative.contains("/ImageSets/Main/") || relative.hasPrefix("ImageSets/Main/") {
                if pendingList == nil && (relative == listSuffix || relative.hasSuffix("/" + listSuffix)) {
                    pendingList = relative
                }
                return relative.hasSuffix(".txt")
            }
            let isImage = relative.contains("JPEGImages/") && relative.hasSuffix(".jpg")
            let isXML = relative.contains("Annotations/") && relative.hasSuffix(".xml")
            guard isImage || isXML else { return false }
            // Keep only the split's files once its list has been read (lists precede images in
            // the official archives and in sorted folder order).
            guard let ids else { return true }
            let stem = ((relative as NSString).lastPathComponent as NSString).deletingPathExtension
            return ids.contains(stem)
        }
        // Locate the VOC2007 root (the folder holding ImageSets/).
        let lists = bundle.paths.filter { $0 == listSuffix || $0.hasSuffix("/" + listSuffix) }
        guard let list = listPath ?? pickList(lists) else {
            throw .fileNotFound(
                path: path + " [VOC2007/" + listSuffix + "]",
                remedy: "Give the VOCdevkit folder or the VOC .tar(.gz) that contains split '\(split)'.")
        }
        let root = String(list.dropLast(listSuffix.count))
        let listName = describe(tree, list)
        let order = ImageFolder.lines(bundle.text(at: list) ?? "").map {
            String($0.split(separator: " ").first ?? "")
        }
        // Images, in list order.
        var imageIndices: [Int] = []
        imageIndices.reserveCapacity(order.count)
        for id in order {
            let relative = root + "JPEGImages/" + id + ".jpg"
            guard let index = bundle.index(of: relative) else {
                throw .missingImage(list: listName, id: id, expectedPath: describe(tree, relative))
            }
            imageIndices.append(index)
        }
        // Labels.
        let hasXML = bundle.paths.contains { $0.hasPrefix(root + "Annotations/") }
        let useXML: Bool
        switch labelSource {
        case .automatic: useXML = hasXML
        case .annotations: useXML = true
        case .imageSets: useXML = false
        }
        let flags =
            useXML
            ? try labelsFromAnnotations(bundle, tree: tree, root: root, ids: order)
            : try labelsFromImageSets(bundle, tree: tree, root: root, split: split, ids: order)
        return try EncodedImageSet(
            bundle: bundle, tree: tree, files: imageIndices, channels: 3, size: size, mode: mode,
            threads: threads ?? Parallel.defaultThreads, labels: .multi(flags), classNames: classNames, source: path,
            split: split)
    }

    /// Parses the objects of a VOC annotation file with an XML parser (attributes, comments, CDATA and entities
    /// read as XML means them).
    ///
    /// - Throws: ``DatasetError/missingField(path:field:context:)`` for an object without `<name>`;
    ///   ``DatasetError/malformed(path:entry:reason:)`` for a file that is not well-formed XML, with its line.
    public static func parseAnnotation(_ xml: String, name: String) throws(DatasetError) -> [Object] {
        try VOCAnnotationParser.objects(in: xml, name: name)
    }

    private static func labelsFromAnnotations(
        _ bundle: FileBundle, tree: FileTree, root: String, ids: [String]
    ) throws(DatasetError) -> [Int8] {
        let k = classNames.count
        var classIndex: [String: Int] = [:]
        for (i, name) in classNames.enumerated() { classIndex[name] = i }
        var flags = [Int8](repeating: 0, count: ids.count * k)
        for (row, id) in ids.enumerated() {
            let relative = root + "Annotations/" + id + ".xml"
            guard let text = bundle.text(at: relative) else {
                throw .fileNotFound(
                    path: describe(tree, relative),
                    remedy: "Every image needs an annotation; restore it or load with labelSource: .imageSets.")
            }
            for object in try parseAnnotation(text, name: describe(tree, relative)) {
                guard let c = classIndex[object.name] else {
                    throw .malformed(
                        path: describe(tree, relative), entry: nil,
                        reason: "unknown class '\(object.name)' (not one of the 20 VOC classes)")
                }
                let cell = row * k + c
                if !object.difficult {
                    flags[cell] = 1
                } else if flags[cell] == 0 {
                    flags[cell] = -1
                }
            }
        }
        return flags
    }

    private static func labelsFromImageSets(
        _ bundle: FileBundle, tree: FileTree, root: String, split: String, ids: [String]
    ) throws(DatasetError) -> [Int8] {
        let k = classNames.count
        var row: [String: Int] = [:]
        for (i, id) in ids.enumerated() { row[id] = i }
        var flags = [Int8](repeating: 0, count: ids.count * k)
        for (c, className) in classNames.enumerated() {
            let relative = root + "ImageSets/Main/\(className)_\(split).txt"
            let name = describe(tree, relative)
            guard let text = bundle.text(at: relative) else {
                throw .fileNotFound(
                    path: name, remedy: "The devkit lacks the class list; restore ImageSets/Main.")
            }
            var seen = 0
            for line in ImageFolder.lines(text) {
                let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
                guard fields.count == 2, let flag = Int(fields[1]), [-1, 0, 1].contains(flag) else {
                    throw .malformed(path: name, entry: nil, reason: "bad line '\(line)' (expected '<id> <1|-1|0>')")
                }
                guard let i = row[String(fields[0])] else { continue }
                flags[i * k + c] = flag == 1 ? 1 : (flag == 0 ? -1 : 0)
                seen += 1
            }
            if seen != ids.count {
                let listed = Set(ImageFolder.lines(text).map { String($0.split(separator: " ")[0]) })
                let missing = ids.first { !listed.contains($0) } ?? "?"
                throw .malformed(
                    path: name, entry: nil,
                    reason: "image id '\(missing)' of the \(split) list has no flag here "
                        + "(\(seen) of \(ids.count) ids listed); the lists do not match")
            }
        }
        return flags
    }

    private static func pickList(_ lists: [String]) -> String? {
        if lists.count <= 1 { return lists.first }
        return lists.first { $0.contains("VOC2007/") } ?? lists.sorted().first
    }

    private static func describe(_ tree: FileTree, _ relative: String) -> String {
        let place = tree.describe(relative)
        return place.entry.map { "\(place.path) [entry \($0)]" } ?? place.path
    }
}
