#!/usr/bin/env python3
"""Write small hostile inputs for gradfeat's readers into a folder.

    python3 scripts/hostile/make_inputs.py OUT [--weights VALID_WEIGHTS.h5]

Python 3 standard library only. HDF5 files are written through ctypes with the system libhdf5
(the library gradfeat itself links; h5py is not needed). If libhdf5 cannot be loaded, the HDF5
cases are skipped and listed in OUT/SKIPPED.txt. --weights (a valid bigan-small weights file, which
run.sh makes with `gradfeat pretrain`) enables the weights cases: they are copies of it with values
changed.

Every file is a few KB, except the decompression bombs (each expands >= 1000x to 1 GiB; the .gz ones
are ~1 MB because deflate cannot do better than ~1030:1) and the "600k keys" configs (~6 MB: a
config that big cannot be small). Layout of OUT (run.sh relies on these names):

    idx/<case>/            MNIST folders (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz])
    tar/<case>.tar[.gz]    image-folder archives (train/<class>/*.jpg); tar/cifar-*/cifar10/cifar10-jpeg.tar.gz
    mat/<case>.mat         SVHN MAT-files (X uint8 [H, W, 3, N], y double [N, 1])
    img/<case>/            image folders with one lying JPEG or PNG
    bomb/<case>...         gzip / xz / tar.gz / MAT decompression bombs
    cfg/<case>.yaml|json   train configs
    folder/<case>/         image folders with a bad class list, a missing class, symlink loops
    h5/<case>.h5           data-set caches and predictions
    weights/<case>.h5      weights files (with --weights)
"""
import ctypes
import ctypes.util
import gzip
import io
import json
import lzma
import os
import shutil
import struct
import sys
import zlib

GIB = 1 << 30
SKIPPED = []  # (case, why), written to OUT/SKIPPED.txt


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def pattern(n, seed=0):
    """Deterministic, compressible pixel bytes (so every valid file stays a few KB)."""
    return bytes(((i // 7 + seed * 13) % 251) for i in range(n))


# ----------------------------------------------------------------------------------------------
# Images: a minimal baseline JPEG encoder (flat grey) and a PNG encoder, so no image library and
# no copy of a real data set is needed.
# ----------------------------------------------------------------------------------------------

def jpeg(width=8, height=8):
    """A valid baseline YCbCr JPEG of a flat mid-grey image (every block: DC 0, then EOB).

    The two Huffman tables hold one code each ("0": DC category 0 / AC end-of-block), so every
    8x8 block of every component costs 2 bits and the scan is a few zero bytes."""
    def seg(marker, body):
        return b"\xff" + bytes([marker]) + struct.pack(">H", len(body) + 2) + body
    dqt = seg(0xDB, b"\x00" + b"\x01" * 64)
    sof = seg(0xC0, struct.pack(">BHHB", 8, height, width, 3) + b"\x01\x11\x00\x02\x11\x00\x03\x11\x00")
    one_code = b"\x01" + b"\x00" * 15 + b"\x00"  # one code of length 1, symbol 0
    dht = seg(0xC4, b"\x00" + one_code) + seg(0xC4, b"\x10" + one_code)
    sos = seg(0xDA, b"\x03\x01\x00\x02\x00\x03\x00\x00\x3f\x00")
    blocks = ((width + 7) // 8) * ((height + 7) // 8) * 3
    bits = "00" * blocks
    bits += "1" * (-len(bits) % 8)  # pad with 1 bits, as the standard says
    scan = bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8))
    scan = scan.replace(b"\xff", b"\xff\x00")
    return b"\xff\xd8" + dqt + sof + dht + sos + scan + b"\xff\xd9"


def jpeg_claiming(width, height):
    """The 8x8 JPEG with its SOF0 frame header patched to claim width x height (the scan stays 8x8)."""
    data = bytearray(jpeg())
    at = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, at + 5, height, width)  # FFC0, length(2), precision(1), then H, W
    return bytes(data)


def png_chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(width=8, height=8):
    rows = b"".join(b"\x00" + pattern(width * 3, y) for y in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(rows))
            + png_chunk(b"IEND", b""))


def png_claiming(width, height):
    """The 8x8 PNG with IHDR patched to claim width x height, its CRC recomputed (so it is read)."""
    data = bytearray(png())
    struct.pack_into(">II", data, 16, width, height)  # signature(8), length(4), "IHDR"(4), then W, H
    struct.pack_into(">I", data, 29, zlib.crc32(bytes(data[12:29])))
    return bytes(data)


# ----------------------------------------------------------------------------------------------
# Decompression bombs. Compressing 1 GiB takes minutes; instead one member of 64 MiB of zeros is
# compressed once and repeated: gzip members and xz streams may be concatenated, and both readers
# (gradfeat's GzipInput, `xz -dc`) read them one after the other.
# ----------------------------------------------------------------------------------------------

ZEROS_MEMBER = 64 << 20
_gz_member = None
_xz_stream = None


def gz_zeros(total):
    """gzip members that decompress to `total` bytes of zeros (a multiple of 64 MiB)."""
    global _gz_member
    if _gz_member is None:
        _gz_member = gzip.compress(bytes(ZEROS_MEMBER), compresslevel=9, mtime=0)
    assert total % ZEROS_MEMBER == 0
    return _gz_member * (total // ZEROS_MEMBER)


def xz_zeros(total):
    """xz streams that decompress to `total` bytes of zeros."""
    global _xz_stream
    if _xz_stream is None:
        _xz_stream = lzma.compress(bytes(ZEROS_MEMBER), preset=6)
    assert total % ZEROS_MEMBER == 0
    return _xz_stream * (total // ZEROS_MEMBER)


# ----------------------------------------------------------------------------------------------
# IDX (MNIST): magic 00 00 08 <rank>, big-endian UInt32 dimensions, data.
# ----------------------------------------------------------------------------------------------

def idx(dims, data):
    return struct.pack(">I", 0x800 | len(dims)) + b"".join(struct.pack(">I", d) for d in dims) + data


def make_idx(out):
    n = 16
    cases = {
        # name: (images file, labels file)
        "valid": (idx([n, 28, 28], pattern(n * 784)), idx([n], bytes(i % 10 for i in range(n)))),
        # (2^32-1)^3 pixels: the product of the dimensions overflows 64 bits.
        "dims-max": (idx([2**32 - 1] * 3, pattern(64)), idx([n], bytes(n))),
        # 2^32-1 images of 28x28 (3.3 TB) in a 100-byte file.
        "count-max": (idx([2**32 - 1, 28, 28], pattern(64)), idx([2**32 - 1], bytes(16))),
        # Images of 0x0: the data is empty and the header "fits".
        "zero-size": (idx([n, 0, 0], b""), idx([n], bytes(n))),
        # 2^31 images of 0x0 (header fits, no data), labels also claiming 2^31.
        "zero-size-2^31": (idx([2**31, 0, 0], b""), idx([2**31], bytes(16))),
        # 2^31 images of 28x28 in a small file.
        "count-2^31": (idx([2**31, 28, 28], pattern(784)), idx([2**31], bytes(16))),
        # 16 images, 15 labels.
        "label-count": (idx([n, 28, 28], pattern(n * 784)), idx([n - 1], bytes(n - 1))),
        # A label outside 0..<10.
        "label-range": (idx([n, 28, 28], pattern(n * 784)), idx([n], bytes([200] * n))),
    }
    for name, (images, labels) in cases.items():
        write(f"{out}/idx/{name}/train-images-idx3-ubyte", images)
        write(f"{out}/idx/{name}/train-labels-idx1-ubyte", labels)
        # The same, gzip-wrapped (the names the Debian package installs).
        write(f"{out}/idx/{name}-gz/train-images-idx3-ubyte.gz", gzip.compress(images, mtime=0))
        write(f"{out}/idx/{name}-gz/train-labels-idx1-ubyte.gz", gzip.compress(labels, mtime=0))


# ----------------------------------------------------------------------------------------------
# tar: 512-byte ustar headers; the size field is 12 bytes of octal, or GNU base-256 (first byte
# has bit 7 set, the rest big-endian).
# ----------------------------------------------------------------------------------------------

def octal_size(value, digits=11):
    return (b"%0*o" % (digits, value)).ljust(12, b"\0")[:12]


def base256_size(value):
    """GNU base-256: 12 bytes two's complement with bit 7 of the first byte set (negative: 0xff...)."""
    raw = (value % (1 << 96)).to_bytes(12, "big")
    return bytes([raw[0] | 0x80]) + raw[1:]


def tar_header(name, size_field, typeflag=b"0"):
    h = bytearray(512)
    h[0:len(name)] = name.encode()
    h[100:108] = b"0000644\0"
    h[108:116] = b"0000000\0"
    h[116:124] = b"0000000\0"
    h[124:136] = size_field
    h[136:148] = b"00000000000\0"
    h[148:156] = b" " * 8
    h[156:157] = typeflag
    h[257:263] = b"ustar\0"
    h[263:265] = b"00"
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)


def tar_member(name, data, typeflag=b"0"):
    return tar_header(name, octal_size(len(data)), typeflag) + data + bytes(-len(data) % 512)


END_OF_ARCHIVE = bytes(1024)


def make_tar(out):
    image = jpeg()
    good = tar_member("train/a/0.jpg", image) + tar_member("train/b/0.jpg", image)
    junk = bytes(512)  # what follows a lying header: one block, then the end

    def lying(size_field, name="train/a/1.jpg", typeflag=b"0"):
        return good + tar_header(name, size_field, typeflag) + junk + END_OF_ARCHIVE

    cases = {
        "valid": good + END_OF_ARCHIVE,
        "octal-max": lying(octal_size(0o77777777777)),              # 8 GiB - 1, the largest 11-digit size
        "octal-12-digits": lying(b"777777777777"),                  # 12 digits, no NUL: 64 GiB - 1
        "b256-2^40": lying(base256_size(2**40)),                    # claims 1 TiB
        "b256-2^34": lying(base256_size(2**34)),                    # claims 16 GiB
        "b256-intmax": lying(base256_size(2**63 - 1)),              # size + 511 overflows
        # 2^80 + the real size: an 88-bit value that wraps to the real size in 64 bits, so the member
        # reads "fine" although its header claims 2^80 bytes.
        "b256-wraps": good + tar_header("train/a/1.jpg", base256_size(2**80 + len(image)))
        + image + bytes(-len(image) % 512) + END_OF_ARCHIVE,
        "b256-negative": lying(base256_size(-1)),                   # -1 in base-256
        "b256-negative-big": lying(base256_size(-(2**40))),         # -2^40
        "pax-negative": lying(base256_size(-1), name="PaxHeader/x", typeflag=b"x"),  # pax header, size -1
        "skip-2^40": lying(base256_size(2**40), name="train/a/notes.txt"),  # not an image: skipped, streamed
        "truncated-header": good + tar_header("train/a/1.jpg", octal_size(len(image)))[:300],
    }
    for name, data in cases.items():
        write(f"{out}/tar/{name}.tar", data)
    for name in ("valid", "b256-2^40", "octal-max", "truncated-header"):
        write(f"{out}/tar/{name}.tar.gz", gzip.compress(cases[name], mtime=0))
    # The CIFAR-10 JPEG archive layout (cifar10/{train,test}/<class>/*.jpg, labels.txt) that
    # `--dataset cifar10 --data-dir DIR` finds as DIR/cifar10/cifar10-jpeg.tar.gz.
    cifar = b"".join(tar_member(f"cifar10/{s}/{c}/{i}.jpg", jpeg(32, 32))
                     for s in ("train", "test") for c in ("a", "b") for i in range(4))
    lie = tar_header("cifar10/train/a/9.jpg", base256_size(2**34)) + junk
    write(f"{out}/tar/cifar-b256-2^34/cifar10/cifar10-jpeg.tar.gz",
          gzip.compress(lie + cifar + END_OF_ARCHIVE, mtime=0))


# ----------------------------------------------------------------------------------------------
# MATLAB level-5 MAT-files (SVHN): 128-byte header, then tagged elements padded to 8 bytes.
# ----------------------------------------------------------------------------------------------

MI_INT8, MI_UINT8, MI_INT32, MI_UINT32, MI_DOUBLE, MI_MATRIX, MI_COMPRESSED = 1, 2, 5, 6, 9, 14, 15


def mat_element(kind, data):
    return struct.pack("<II", kind, len(data)) + data + bytes(-len(data) % 8)


def mat_matrix(name, dims, class_id, kind, data):
    body = (mat_element(MI_UINT32, struct.pack("<II", class_id, 0))
            + mat_element(MI_INT32, struct.pack(f"<{len(dims)}i", *dims))
            + mat_element(MI_INT8, name.encode())
            + mat_element(kind, data))
    return mat_element(MI_MATRIX, body)


def mat_file(*elements):
    header = b"MATLAB 5.0 MAT-file, gradfeat hostile input".ljust(116, b" ") + bytes(8) + b"\x00\x01IM"
    return header + b"".join(elements)


def svhn(x_dims, x_data, n_labels):
    y = mat_matrix("y", [n_labels, 1], 6, MI_DOUBLE, struct.pack(f"<{n_labels}d", *[1.0] * n_labels))
    return mat_file(mat_matrix("X", x_dims, 9, MI_UINT8, x_data), y)


def make_mat(out):
    n = 4
    write(f"{out}/mat/valid.mat", svhn([32, 32, 3, n], pattern(32 * 32 * 3 * n), n))
    # The product of the dimensions overflows 64 bits.
    write(f"{out}/mat/dims-overflow.mat", svhn([2**31 - 1, 2**31 - 1, 3, 2**31 - 1], b"", 1))
    # 100,000 images claimed, 4 stored.
    write(f"{out}/mat/dims-exceed-file.mat", svhn([32, 32, 3, 100000], pattern(32 * 32 * 3 * n), n))
    # Two negative dimensions whose product is the stored count.
    write(f"{out}/mat/dims-negative.mat", svhn([-32, -32, 3, n], pattern(32 * 32 * 3 * n), n))


# ----------------------------------------------------------------------------------------------
# Image files that lie about their size (the first image of a folder sets the size of all).
# ----------------------------------------------------------------------------------------------

def make_images(out):
    write(f"{out}/img/valid/train/a/0.jpg", jpeg())
    write(f"{out}/img/valid/train/b/0.png", png())
    write(f"{out}/img/jpeg-65000/train/a/0.jpg", jpeg_claiming(65000, 65000))
    write(f"{out}/img/jpeg-65000/train/b/0.jpg", jpeg())
    write(f"{out}/img/png-100000/train/a/0.png", png_claiming(100000, 100000))
    write(f"{out}/img/png-100000/train/b/0.png", png())


# ----------------------------------------------------------------------------------------------
# Decompression bombs: each expands to 1 GiB (>= 1000x its size).
# ----------------------------------------------------------------------------------------------

def make_bombs(out):
    # MNIST: a valid 16-image IDX file followed by 1 GiB of zeros, gzip and xz (xz is detected from
    # the content, not the name).
    images = idx([16, 28, 28], pattern(16 * 784))
    labels = idx([16], bytes(16))
    write(f"{out}/bomb/idx-gz/train-images-idx3-ubyte.gz", gzip.compress(images, mtime=0) + gz_zeros(GIB))
    write(f"{out}/bomb/idx-gz/train-labels-idx1-ubyte.gz", gzip.compress(labels, mtime=0))
    write(f"{out}/bomb/idx-xz/train-images-idx3-ubyte", lzma.compress(images) + xz_zeros(GIB))
    write(f"{out}/bomb/idx-xz/train-labels-idx1-ubyte", labels)
    # CIFAR-10 binary test batch, xz (the shared copy's test_batch.bin.xz): 1 GiB of zero records.
    write(f"{out}/bomb/cifar-xz/test_batch.bin.xz", xz_zeros(GIB))
    # An image-folder .tar.gz whose one image is 1 GiB (an honest header; the bytes are there).
    head = tar_member("train/a/0.jpg", jpeg()) + tar_header("train/b/0.jpg", octal_size(GIB))
    tail = END_OF_ARCHIVE  # 1 GiB is a multiple of 512: no padding
    write(f"{out}/bomb/tar-gz.tar.gz",
          gzip.compress(head, mtime=0) + gz_zeros(GIB) + gzip.compress(tail, mtime=0))
    # The same with two 1 GiB images: the whole tree is read into memory before any is decoded.
    head2 = tar_member("train/a/0.jpg", jpeg()) + tar_header("train/b/0.jpg", octal_size(GIB))
    second = tar_header("train/b/1.jpg", octal_size(GIB))
    write(f"{out}/bomb/tar-gz-2x1g.tar.gz",
          gzip.compress(head2, mtime=0) + gz_zeros(GIB) + gzip.compress(second, mtime=0) + gz_zeros(GIB)
          + gzip.compress(tail, mtime=0))
    # SVHN: a miCOMPRESSED element holding 1 GiB (the reader inflates it whole before parsing).
    inner = gzip.compress(struct.pack("<II", MI_MATRIX, GIB - 8), mtime=0) + gz_zeros(GIB)
    write(f"{out}/bomb/svhn.mat", mat_file(struct.pack("<II", MI_COMPRESSED, len(inner)) + inner))


# ----------------------------------------------------------------------------------------------
# Config files for `gradfeat train --config` (the hostile key must not be on the command line:
# the command line wins over the file).
# ----------------------------------------------------------------------------------------------

BASE_CONFIG = {"model": "bigan-small", "mode": ["activation"], "niter": 2, "batchsize": 8,
               "eval_every": 1, "train_size": 24, "test_size": 8}


def yaml_config(extra_lines="", **overrides):
    config = dict(BASE_CONFIG, **overrides)
    # Plain scalars and flow lists only: the strict reader refuses a quoted "string" (it carries a tag).
    plain = lambda v: "[" + ", ".join(map(str, v)) + "]" if isinstance(v, list) else str(v)
    lines = [f"{k}: {plain(v)}" for k, v in config.items()]
    return ("\n".join(lines) + "\n" + extra_lines).encode()


def many_keys_yaml(count):
    return yaml_config("".join(f"k{i}: 0\n" for i in range(count)))


def many_keys_json(count):
    keys = ",".join(f'"k{i}":0' for i in range(count))
    return (json.dumps(BASE_CONFIG)[:-1] + "," + keys + "}").encode()


def keys_under(limit, make):
    """The most keys whose file stays under `limit` bytes (so the parser, not the size check, sees it)."""
    low, high = 0, 200000
    while low < high:
        mid = (low + high + 1) // 2
        low, high = (mid, high) if len(make(mid)) <= limit else (low, mid - 1)
    return low


def make_configs(out):
    c = f"{out}/cfg"
    write(f"{c}/valid.yaml", yaml_config())
    write(f"{c}/valid.json", json.dumps(BASE_CONFIG).encode())
    # Billion laughs: 9 levels of 9 aliases, 9^9 = 387M strings when expanded.
    laughs = ['lol0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 9):
        laughs.append(f"lol{i}: &l{i} [" + ", ".join([f"*l{i-1}"] * 9) + "]")
    write(f"{c}/billion-laughs.yaml", ("\n".join(laughs) + "\n").encode())
    write(f"{c}/keys-600k.yaml", many_keys_yaml(600000))
    write(f"{c}/keys-600k.json", many_keys_json(600000))
    write(f"{c}/keys-under-1mib.yaml", many_keys_yaml(keys_under(1 << 20, many_keys_yaml)))
    write(f"{c}/keys-under-1mib.json", many_keys_json(keys_under(1 << 20, many_keys_json)))
    # JSON with a repeated key (both values harmless, so a silent accept shows as success).
    write(f"{c}/duplicate-keys.json", json.dumps(BASE_CONFIG)[:-1].encode() + b', "niter": 1}')
    write(f"{c}/duplicate-keys.yaml", yaml_config("niter: 1\n"))
    write(f"{c}/batchsize-neg.yaml", yaml_config(batchsize=-1))
    write(f"{c}/niter-neg.yaml", yaml_config(niter=-5))
    write(f"{c}/eval-every-neg.yaml", yaml_config(eval_every=-1))
    write(f"{c}/stepsize-neg.yaml", yaml_config(stepsize=-5))
    write(f"{c}/lr-nan.yaml", yaml_config("lr: nan\n"))
    write(f"{c}/lr-dot-nan.yaml", yaml_config("lr: .nan\n"))
    write(f"{c}/lr-nan.json", json.dumps(BASE_CONFIG)[:-1].encode() + b', "lr": NaN}')
    # 100,000 nested lists (a recursive parser overflows its stack).
    write(f"{c}/deep-nesting.json", json.dumps(BASE_CONFIG)[:-1].encode()
          + b', "title": ' + b"[" * 100000 + b"]" * 100000 + b"}")
    write(f"{c}/deep-nesting.yaml", yaml_config("title: " + "[" * 100000 + "]" * 100000 + "\n"))


# ----------------------------------------------------------------------------------------------
# Image folders with a bad class list, a missing class, symlink loops.
# ----------------------------------------------------------------------------------------------

def make_folders(out):
    image = jpeg()
    big = jpeg(32, 32)  # the CIFAR-layout trees are trained on: bigan-small takes 32x32
    d = f"{out}/folder/duplicate-class"
    for cls in ("a", "b"):
        for i in range(3):
            write(f"{d}/train/{cls}/{i}.jpg", image)
    write(f"{d}/labels.txt", b"a\nb\na\n")
    # The test split lacks a class (and there is no labels.txt): as the CIFAR-10 archive layout.
    members = [tar_member(f"cifar10/train/{cls}/{i}.jpg", big) for cls in "abc" for i in range(8)]
    valid = members + [tar_member(f"cifar10/test/{cls}/{i}.jpg", big) for cls in "abc" for i in range(4)]
    # Class a (the first) is missing: sorted folder names would shift b and c to labels 0 and 1.
    members += [tar_member(f"cifar10/test/{cls}/{i}.jpg", big) for cls in "bc" for i in range(4)]
    write(f"{out}/folder/missing-test-class/cifar10/cifar10-jpeg.tar.gz",
          gzip.compress(b"".join(members) + END_OF_ARCHIVE, mtime=0))
    # The control: every class in both splits.
    write(f"{out}/folder/cifar10-valid/cifar10/cifar10-jpeg.tar.gz",
          gzip.compress(b"".join(valid) + END_OF_ARCHIVE, mtime=0))
    # Symlink loops: a folder link to an ancestor, and a file link to itself.
    d = f"{out}/folder/symlink-loop"
    for cls in ("a", "b"):
        write(f"{d}/train/{cls}/0.jpg", image)
    for link, target in ((f"{d}/train/a/loop", ".."), (f"{d}/train/b/self.jpg", "self.jpg"),
                         (f"{d}/train/b/up", "../..")):
        if os.path.lexists(link):
            os.remove(link)
        os.symlink(target, link)


# ----------------------------------------------------------------------------------------------
# HDF5 through ctypes and the system libhdf5 (1.10+, hid_t 64-bit).
# ----------------------------------------------------------------------------------------------

class H5:
    H5F_ACC_RDWR, H5F_ACC_TRUNC, H5S_SCALAR, H5T_CSET_UTF8, P_DEFAULT, S_ALL = 1, 2, 0, 1, 0, 0

    def __init__(self):
        names = ["libhdf5_serial.so.103", "libhdf5_serial.so", "libhdf5.so.103", "libhdf5.so",
                 ctypes.util.find_library("hdf5_serial"), ctypes.util.find_library("hdf5")]
        self.lib = None
        for name in filter(None, names):
            try:
                self.lib = ctypes.CDLL(name)
                break
            except OSError:
                continue
        if self.lib is None:
            raise OSError("libhdf5 not found")
        hid, hsize, p = ctypes.c_int64, ctypes.c_uint64, ctypes.c_void_p
        self.hid, self.hsize = hid, hsize
        for name, res, args in [
            ("H5open", ctypes.c_int, []),
            ("H5Fcreate", hid, [ctypes.c_char_p, ctypes.c_uint, hid, hid]),
            ("H5Fopen", hid, [ctypes.c_char_p, ctypes.c_uint, hid]),
            ("H5Screate_simple", hid, [ctypes.c_int, ctypes.POINTER(hsize), ctypes.POINTER(hsize)]),
            ("H5Screate", hid, [ctypes.c_int]),
            ("H5Pcreate", hid, [hid]),
            ("H5Pset_chunk", ctypes.c_int, [hid, ctypes.c_int, ctypes.POINTER(hsize)]),
            ("H5Pset_deflate", ctypes.c_int, [hid, ctypes.c_uint]),
            ("H5Dcreate2", hid, [hid, ctypes.c_char_p, hid, hid, hid, hid, hid]),
            ("H5Dopen2", hid, [hid, ctypes.c_char_p, hid]),
            ("H5Dwrite", ctypes.c_int, [hid, hid, hid, hid, hid, p]),
            ("H5Dread", ctypes.c_int, [hid, hid, hid, hid, hid, p]),
            ("H5Dget_space", hid, [hid]),
            ("H5Sget_simple_extent_npoints", ctypes.c_int64, [hid]),
            ("H5Acreate2", hid, [hid, ctypes.c_char_p, hid, hid, hid, hid]),
            ("H5Awrite", ctypes.c_int, [hid, hid, p]),
            ("H5Adelete", ctypes.c_int, [hid, ctypes.c_char_p]),
            ("H5Tcopy", hid, [hid]),
            ("H5Tset_size", ctypes.c_int, [hid, ctypes.c_size_t]),
            ("H5Tset_cset", ctypes.c_int, [hid, ctypes.c_int]),
        ] + [(n, ctypes.c_int, [hid]) for n in
             ("H5Fclose", "H5Sclose", "H5Pclose", "H5Dclose", "H5Aclose", "H5Tclose")]:
            f = getattr(self.lib, name)
            f.restype, f.argtypes = res, args
        self.lib.H5open()
        g = lambda n: hid.in_dll(self.lib, n).value
        self.types = {"u8": g("H5T_STD_U8LE_g"), "i8": g("H5T_STD_I8LE_g"), "i64": g("H5T_STD_I64LE_g"),
                      "f32": g("H5T_IEEE_F32LE_g"), "f64": g("H5T_IEEE_F64LE_g")}
        self.dcpl_class = g("H5P_CLS_DATASET_CREATE_ID_g")
        self.c_s1 = g("H5T_C_S1_g")

    def ok(self, value, what):
        if value < 0:
            raise RuntimeError(f"HDF5: {what} failed")
        return value

    def dims(self, shape):
        return (self.hsize * len(shape))(*shape)

    def create(self, path):
        return self.ok(self.lib.H5Fcreate(path.encode(), self.H5F_ACC_TRUNC, 0, 0), "create " + path)

    def open(self, path):
        return self.ok(self.lib.H5Fopen(path.encode(), self.H5F_ACC_RDWR, 0), "open " + path)

    def close(self, f):
        self.ok(self.lib.H5Fclose(f), "close")

    def dataset(self, f, name, dtype, shape, data=None, chunk=None):
        """Creates /name; `data` (bytes, little-endian) is written when given. With `chunk` and no
        data the dataset is declared but nothing is allocated: any shape fits in a small file."""
        space = self.ok(self.lib.H5Screate_simple(len(shape), self.dims(shape), None), "dataspace")
        dcpl = self.ok(self.lib.H5Pcreate(self.dcpl_class), "dcpl")
        if chunk:
            self.ok(self.lib.H5Pset_chunk(dcpl, len(chunk), self.dims(chunk)), "chunk")
            self.ok(self.lib.H5Pset_deflate(dcpl, 4), "deflate")
        d = self.ok(self.lib.H5Dcreate2(f, name.encode(), self.types[dtype], space, 0, dcpl, 0), "dataset " + name)
        if data is not None:
            buf = ctypes.create_string_buffer(data, len(data))
            self.ok(self.lib.H5Dwrite(d, self.types[dtype], 0, 0, 0, buf), "write " + name)
        for close, h in ((self.lib.H5Dclose, d), (self.lib.H5Pclose, dcpl), (self.lib.H5Sclose, space)):
            close(h)

    def attribute(self, loc, name, value):
        """str → variable-length UTF-8 string, [str] → array of them, int → int64, [int] → int64 array."""
        strings = isinstance(value, str) or (isinstance(value, list) and value and isinstance(value[0], str))
        items = value if isinstance(value, list) else [value]
        if isinstance(value, list):
            space = self.lib.H5Screate_simple(1, self.dims([len(items)]), None)
        else:
            space = self.lib.H5Screate(self.H5S_SCALAR)
        if strings:
            dtype = self.lib.H5Tcopy(self.c_s1)
            self.lib.H5Tset_size(dtype, ctypes.c_size_t(-1).value)  # H5T_VARIABLE
            self.lib.H5Tset_cset(dtype, self.H5T_CSET_UTF8)
            buf = (ctypes.c_char_p * len(items))(*[s.encode() for s in items])
        else:
            dtype = self.types["i64"]
            buf = (ctypes.c_int64 * len(items))(*items)
        a = self.ok(self.lib.H5Acreate2(loc, name.encode(), dtype, space, 0, 0), "attribute " + name)
        self.ok(self.lib.H5Awrite(a, dtype, ctypes.cast(buf, ctypes.c_void_p)), "write attribute " + name)
        self.lib.H5Aclose(a)
        self.lib.H5Sclose(space)
        if strings:
            self.lib.H5Tclose(dtype)

    def delete_attribute(self, loc, name):
        self.ok(self.lib.H5Adelete(loc, name.encode()), "delete attribute " + name)

    def update_floats(self, f, name, change):
        """Reads float32 dataset /name, applies change(list) in place, writes it back."""
        d = self.ok(self.lib.H5Dopen2(f, name.encode(), 0), "open " + name)
        space = self.lib.H5Dget_space(d)
        n = self.lib.H5Sget_simple_extent_npoints(space)
        buf = (ctypes.c_float * n)()
        self.ok(self.lib.H5Dread(d, self.types["f32"], 0, 0, 0, ctypes.cast(buf, ctypes.c_void_p)), "read " + name)
        change(buf)
        self.ok(self.lib.H5Dwrite(d, self.types["f32"], 0, 0, 0, ctypes.cast(buf, ctypes.c_void_p)), "write " + name)
        self.lib.H5Sclose(space)
        self.lib.H5Dclose(d)


def dataset_cache(h5, path, n=40, shape=(3, 32, 32), classes=10, images=None, labels=None,
                  image_dtype="u8", label_dtype="i64", label_shape=None, attrs=None, skip_attrs=(),
                  chunked=True):
    """A data-set cache (docs/FORMATS.md) with every part replaceable.

    images / labels: bytes to write, or None for the valid ones; "declare" declares the dataset
    with its shape and writes nothing (chunked: the file stays ~KB whatever the shape)."""
    c, hgt, w = shape[0], shape[1], shape[2]
    f = h5.create(path)
    image_shape = [n, c, hgt, w]
    if images == "declare":
        h5.dataset(f, "images", image_dtype, image_shape, chunk=[1, 1, min(hgt, 64), min(w, 64)])
    else:
        data = images if images is not None else pattern(n * c * hgt * w)
        h5.dataset(f, "images", image_dtype, image_shape, data, chunk=[min(n, 16), c, hgt, w])
    label_shape = label_shape or [n]
    if labels == "declare":
        h5.dataset(f, "labels", label_dtype, label_shape, chunk=[min(label_shape[0], 1 << 16)] + label_shape[1:])
    else:
        count = 1
        for s in label_shape:
            count *= s
        values = labels if labels is not None else [i % classes for i in range(count)]
        fmt = {"i64": "q", "i8": "b", "f64": "d", "f32": "f"}[label_dtype]
        h5.dataset(f, "labels", label_dtype, label_shape, struct.pack(f"<{count}{fmt}", *values),
                   chunk=label_shape if chunked and count else None)
    base = {"format": "gradfeat-dataset", "version": 1, "class_names": [str(i) for i in range(classes)],
            "source": "hostile", "split": "train", "count": n, "image_shape": [c, hgt, w]}
    base.update(attrs or {})
    for key, value in base.items():
        if key not in skip_attrs:
            h5.attribute(f, key, value)
    h5.close(f)


def make_hdf5(out):
    try:
        h5 = H5()
    except OSError as error:
        SKIPPED.append(("h5/*, weights/*", f"no libhdf5 to write HDF5 with ({error})"))
        return None
    d = f"{out}/h5"
    os.makedirs(d, exist_ok=True)
    dataset_cache(h5, f"{d}/valid.h5")
    # [2^31, 1, 28, 28] images (1.7 TB) and 2^31 labels (16 GiB) declared, nothing written: ~10 KB.
    dataset_cache(h5, f"{d}/huge-2^31.h5", n=2**31, shape=(1, 28, 28), images="declare", labels="declare")
    # Images of 2^40 x 2^40: C*H*W overflows 64 bits when multiplied by N.
    dataset_cache(h5, f"{d}/shape-overflow.h5", n=16, shape=(3, 2**40, 2**40), images="declare")
    dataset_cache(h5, f"{d}/images-float32.h5", image_dtype="f32",
                  images=struct.pack("<%df" % (40 * 3 * 32 * 32), *([0.5] * (40 * 3 * 32 * 32))))
    dataset_cache(h5, f"{d}/labels-float64.h5", label_dtype="f64", labels=[float(i % 10) for i in range(40)])
    dataset_cache(h5, f"{d}/no-class-names.h5", skip_attrs=("class_names",))
    dataset_cache(h5, f"{d}/no-format.h5", skip_attrs=("format",))
    dataset_cache(h5, f"{d}/no-count.h5", skip_attrs=("count", "image_shape"))
    dataset_cache(h5, f"{d}/count-string.h5", attrs={"count": "40"})
    dataset_cache(h5, f"{d}/count-mismatch.h5", attrs={"count": 41})
    dataset_cache(h5, f"{d}/version-2.h5", attrs={"version": 2})
    dataset_cache(h5, f"{d}/label-count.h5", label_shape=[39], labels=[i % 10 for i in range(39)])
    dataset_cache(h5, f"{d}/label-range.h5", labels=[10] * 40)
    dataset_cache(h5, f"{d}/label-negative.h5", labels=[-1] * 40)
    dataset_cache(h5, f"{d}/flags-range.h5", label_dtype="i8", label_shape=[40, 10], labels=[2] * 400)
    # A file cut in half.
    with open(f"{d}/valid.h5", "rb") as src:
        data = src.read()
    write(f"{d}/truncated.h5", data[:len(data) // 2])
    # Predictions with NaN logits, for `gradfeat eval --predictions`.
    f = h5.create(f"{d}/predictions-nan.h5")
    h5.dataset(f, "logits", "f32", [40, 10], struct.pack("<400f", *([float("nan")] * 400)))
    for key, value in {"format": "gradfeat-predictions", "version": 1, "model": "bigan-small",
                       "extractor": "network"}.items():
        h5.attribute(f, key, value)
    h5.close(f)
    return h5


def make_weights(out, h5, source):
    """Copies of a valid weights file: some values negated (the stored weights_hash no longer
    matches), and one NaN."""
    if h5 is None:
        return
    if not source or not os.path.exists(source):
        SKIPPED.append(("weights/*", "no valid weights file given (--weights)"))
        return
    os.makedirs(f"{out}/weights", exist_ok=True)

    def flip(values):
        for i in range(0, min(len(values), 64)):
            values[i] = -values[i] if values[i] != 0 else 1.0

    def nan(values):
        values[0] = float("nan")

    for name, change in (("flipped", flip), ("nan", nan)):
        target = f"{out}/weights/{name}.h5"
        shutil.copyfile(source, target)
        f = h5.open(target)
        h5.update_floats(f, "conv1.weight", change)
        h5.close(f)


def main(argv):
    args = list(argv)
    weights = None
    if "--weights" in args:
        i = args.index("--weights")
        weights = args[i + 1]
        del args[i:i + 2]
    if len(args) != 1:
        sys.exit(__doc__)
    out = os.path.abspath(args[0])
    os.makedirs(out, exist_ok=True)
    if weights:  # second pass (run.sh): only the cases derived from the weights file
        make_weights(out, H5(), weights)
    else:
        for make in (make_idx, make_tar, make_mat, make_images, make_bombs, make_configs, make_folders):
            make(out)
        make_hdf5(out)
    with open(f"{out}/SKIPPED.txt", "a") as f:
        for case, why in SKIPPED:
            f.write(f"{case}: {why}\n")


if __name__ == "__main__":
    main(sys.argv[1:])
