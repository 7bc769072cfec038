// Attributes of every kind on files, groups and datasets, including strings as h5py writes them.

import CHDF5
import Foundation
import HDF5
import Testing

@Suite struct AttributeTests {
    /// Writes one attribute of every kind on `object`.
    private func writeAll(on object: some HDF5Object) throws {
        try object.setAttribute("text", "gradients as features ✓")
        try object.setAttribute("fixed", "fixed width", stringStorage: .fixedLength)
        try object.setAttribute("count", Int64(-7))
        try object.setAttribute("epochs", 30)
        try object.setAttribute("rate", 0.001)
        try object.setAttribute("sizes", [1, 2, 3] as [Int64])
        try object.setAttribute("one", [5] as [Int64])
        try object.setAttribute("means", [0.5, -1.25])
        try object.setAttribute("labels", ["cat", "dog", ""])
        try object.setAttribute("fixedLabels", ["a", "bcd"], stringStorage: .fixedLength)
        try object.setAttribute("none", [Double]())
    }

    private func checkAll(on object: some HDF5Object) throws {
        #expect(
            try object.attributeNames() == [
                "count", "epochs", "fixed", "fixedLabels", "labels", "means", "none", "one", "rate", "sizes", "text",
            ])
        #expect(try object.attribute("text", as: String.self) == "gradients as features ✓")
        #expect(try object.attribute("fixed", as: String.self) == "fixed width")
        #expect(try object.attribute("count", as: Int64.self) == -7)
        #expect(try object.attribute("epochs", as: Int.self) == 30)
        #expect(try object.attribute("rate", as: Double.self) == 0.001)
        #expect(try object.attribute("sizes", as: [Int64].self) == [1, 2, 3])
        #expect(try object.attribute("sizes", as: [Int].self) == [1, 2, 3])
        #expect(try object.attribute("one") == .int64s([5]))
        #expect(try object.attribute("one", as: Int64.self) == 5)
        #expect(try object.attribute("count", as: [Int64].self) == [-7])
        #expect(try object.attribute("means", as: [Double].self) == [0.5, -1.25])
        #expect(try object.attribute("labels", as: [String].self) == ["cat", "dog", ""])
        #expect(try object.attribute("fixedLabels", as: [String].self) == ["a", "bcd"])
        #expect(try object.attribute("none") == .doubles([]))
        #expect(try object.attribute("text") == .string("gradients as features ✓"))
    }

    @Test func everyKindOnFileGroupAndDataset() throws {
        try withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("attributes.h5")
            try HDF5File.writeAtomically(to: url) { file in
                try writeAll(on: file)
                try writeAll(on: file.createGroup("a/b"))
                try writeAll(on: file.createDataset("a/b/data", values: [1, 2, 3] as [Float]))
            }
            let file = try HDF5File(url: url)
            try checkAll(on: file)
            try checkAll(on: file.group(named: "a/b"))
            try checkAll(on: file.dataset(named: "/a/b/data"))
        }
    }

    @Test func missingAndMistypedAttributesGiveTypedErrors() throws {
        try withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("errors.h5")
            try HDF5File.writeAtomically(to: url) { file in
                try file.createGroup("g").setAttribute("rate", 0.1)
            }
            let group = try HDF5File(url: url).group(named: "g")
            let missing = #expect(throws: HDF5Error.self) { try group.attribute("epochs", as: Int.self) }
            #expect(missing == .attributeNotFound(file: url.path, object: "/g", name: "epochs"))
            let mistyped = #expect(throws: HDF5Error.self) { try group.attribute("rate", as: Int64.self) }
            #expect(
                mistyped
                    == .attributeTypeMismatch(
                        file: url.path, object: "/g", name: "rate", expected: "Int64", found: "Double"))
            #expect(throws: HDF5Error.self) { try group.attribute("rate", as: String.self) }
            #expect(throws: HDF5Error.self) { try group.attribute("rate", as: [Int64].self) }
            #expect(try group.hasAttribute("rate"))
            #expect(try !group.hasAttribute("epochs"))
        }
    }

    @Test func overwriteAndDelete() throws {
        try withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("overwrite.h5")
            try HDF5File.writeAtomically(to: url) { file in
                try file.setAttribute("v", 1)
                try file.setAttribute("v", "now a string")
                try file.setAttribute("gone", 2.0)
                try file.deleteAttribute("gone")
                #expect(throws: HDF5Error.self) { try file.deleteAttribute("gone") }
            }
            let file = try HDF5File(url: url)
            #expect(try file.attribute("v", as: String.self) == "now a string")
            #expect(try file.attributeNames() == ["v"])
        }
    }

    /// Writes a string attribute the way other tools do: h5py (`str` → variable-length UTF-8,
    /// numpy `bytes_` → fixed-length null-padded ASCII), C programs (null-terminated) and
    /// Fortran (space-padded).
    private func writeForeignString(
        _ location: hid_t, _ name: String, _ values: [String], variable: Bool, pad: H5T_str_t, cset: H5T_cset_t,
        scalar: Bool
    ) {
        let type = H5Tcopy(gf_H5T_C_S1())
        defer { _ = H5Tclose(type) }
        let width = (values.map(\.utf8.count).max() ?? 0) + (pad == H5T_STR_NULLTERM ? 1 : 0)
        _ = H5Tset_size(type, variable ? gf_H5T_VARIABLE() : max(1, width))
        _ = H5Tset_strpad(type, pad)
        _ = H5Tset_cset(type, cset)
        var dims = [hsize_t(values.count)]
        let space = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dims, nil)
        defer { _ = H5Sclose(space) }
        let attribute = H5Acreate2(location, name, type, space, gf_H5P_DEFAULT(), gf_H5P_DEFAULT())
        defer { _ = H5Aclose(attribute) }
        if variable {
            let pointers = values.map { strdup($0) }
            defer { for pointer in pointers { free(pointer) } }
            _ = pointers.withUnsafeBytes { H5Awrite(attribute, type, $0.baseAddress) }
        } else {
            let filler: UInt8 = pad == H5T_STR_SPACEPAD ? UInt8(ascii: " ") : 0
            let bytes = values.flatMap {
                Array($0.utf8) + Array(repeating: filler, count: max(1, width) - $0.utf8.count)
            }
            _ = bytes.withUnsafeBytes { H5Awrite(attribute, type, $0.baseAddress) }
        }
    }

    @Test func readsStringsAsH5pyAndOtherToolsWriteThem() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("foreign.h5").path
            // Raw C calls must hold the library lock like the module does.
            try HDF5Library.withLock {
                let file = H5Fcreate(path, gf_H5F_ACC_TRUNC(), gf_H5P_DEFAULT(), gf_H5P_DEFAULT())
                try #require(file >= 0)
                writeForeignString(
                    file, "py_str", ["naïve"], variable: true, pad: H5T_STR_NULLTERM, cset: H5T_CSET_UTF8, scalar: true)
                writeForeignString(
                    file, "py_list", ["a", "bb"], variable: true, pad: H5T_STR_NULLTERM, cset: H5T_CSET_UTF8,
                    scalar: false)
                writeForeignString(
                    file, "np_bytes", ["cifar10"], variable: false, pad: H5T_STR_NULLPAD, cset: H5T_CSET_ASCII,
                    scalar: true)
                writeForeignString(
                    file, "np_bytes_array", ["x", "yz"], variable: false, pad: H5T_STR_NULLPAD, cset: H5T_CSET_ASCII,
                    scalar: false)
                writeForeignString(
                    file, "vlen_ascii", ["plain"], variable: true, pad: H5T_STR_NULLTERM, cset: H5T_CSET_ASCII,
                    scalar: true)
                writeForeignString(
                    file, "c_string", ["nullterm"], variable: false, pad: H5T_STR_NULLTERM, cset: H5T_CSET_ASCII,
                    scalar: true)
                writeForeignString(
                    file, "fortran", ["spaced"], variable: false, pad: H5T_STR_SPACEPAD, cset: H5T_CSET_ASCII,
                    scalar: true)
                var small: Int32 = -3
                let space = H5Screate(H5S_SCALAR)
                let attribute = H5Acreate2(
                    file, "int32", gf_H5T_NATIVE_INT32(), space, gf_H5P_DEFAULT(), gf_H5P_DEFAULT())
                _ = H5Awrite(attribute, gf_H5T_NATIVE_INT32(), &small)
                _ = H5Aclose(attribute)
                _ = H5Sclose(space)
                _ = H5Fclose(file)
            }

            let reopened = try HDF5File(path: path)
            #expect(try reopened.attribute("py_str", as: String.self) == "naïve")
            #expect(try reopened.attribute("py_list", as: [String].self) == ["a", "bb"])
            #expect(try reopened.attribute("np_bytes", as: String.self) == "cifar10")
            #expect(try reopened.attribute("np_bytes_array", as: [String].self) == ["x", "yz"])
            #expect(try reopened.attribute("vlen_ascii", as: String.self) == "plain")
            #expect(try reopened.attribute("c_string", as: String.self) == "nullterm")
            #expect(try reopened.attribute("fortran", as: String.self) == "spaced")
            #expect(try reopened.attribute("int32", as: Int64.self) == -3)
        }
    }
}
