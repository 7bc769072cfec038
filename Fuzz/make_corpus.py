#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target to Fuzz/Corpus/<Target>/ (Python standard library only).

Each target gets a few small valid inputs and a few slightly invalid ones (cut short, a wrong field), laid out
as the target reads its input (see the comment at the top of each Fuzz/Sources/<Target>/<Target>.swift): a few
choice bytes, then the file. Targets whose input is all choices (image folders, VOC trees, the HDF5 files) get
zero bytes (the valid baseline) and a few deterministic random strings.

    python3 Fuzz/make_corpus.py            # rewrites Fuzz/Corpus/
"""
import gzip
import io
import json
import lzma
import random
import shutil
import struct
import tarfile
import zlib
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "Corpus"


# --- CIFAR binary records -----------------------------------------------------------------------------------

def cifar_records(labels, header_bytes):
    out = b""
    for i, label in enumerate(labels):
        out += bytes(label if isinstance(label, tuple) else (label,) * header_bytes)
        out += bytes((i * 7 + k) % 256 for k in range(3072))
    return out


def cifar():
    # Choice bytes: CIFAR-100, coarse labels, gzip, class list (0 none, 1 empty, 2 "a b", 3 blank, 4 120 names).
    c10 = cifar_records([3, 9], 1)
    c100 = cifar_records([(19, 99), (0, 5)], 2)
    return {
        "cifar10-two-records": bytes([0, 0, 0, 0]) + c10,
        "cifar100-fine": bytes([1, 0, 0, 0]) + c100,
        "cifar100-coarse-gzip": bytes([1, 1, 1, 0]) + c100,
        "cifar10-class-list": bytes([0, 0, 0, 4]) + c10,
        "cifar10-empty": bytes([0, 0, 0, 0]),
        "bad-truncated-record": bytes([0, 0, 0, 0]) + c10[:-5],
        "bad-label-out-of-range": bytes([0, 0, 0, 0]) + cifar_records([200], 1),
        "bad-label-beyond-two-names": bytes([0, 0, 0, 2]) + c10,
    }


# --- MNIST IDX ------------------------------------------------------------------------------------------------

def idx(magic, dims, data):
    return struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + bytes(data)


def mnist():
    # Choice bytes: gzip images, gzip labels, label-file length (2 bytes, big-endian); labels; images.
    def case(images, labels, gz_images=0, gz_labels=0):
        return bytes([gz_images, gz_labels]) + struct.pack(">H", len(labels)) + labels + images

    images = idx(0x803, [3, 4, 4], range(48))
    labels = idx(0x801, [3], [0, 9, 4])
    return {
        "three-images": case(images, labels),
        "three-images-gzip": case(images, labels, 1, 1),
        "no-images": case(idx(0x803, [0, 28, 28], []), idx(0x801, [0], [])),
        "bad-count-mismatch": case(images, idx(0x801, [2], [0, 1])),
        "bad-swapped-files": case(labels, images),
        "bad-truncated-data": case(images[:-3], labels),
        "bad-label-ten": case(images, idx(0x801, [3], [0, 10, 1])),
    }


# --- tar --------------------------------------------------------------------------------------------------

def tar(members, fmt):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=fmt) as archive:
        for name, data in members:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.DIRTYPE
                archive.addfile(info)
            elif isinstance(data, str):
                info.type = tarfile.SYMTYPE
                info.linkname = data
                archive.addfile(info)
            else:
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def tars():
    # Choice byte: bit i set = skip the contents of entry i (mod 8); bit 0/1 also pick what FileTree.load keeps.
    files = [("train/", None), ("train/cat/a.jpg", b"\xff\xd8\xff" + bytes(20)), ("labels.txt", b"cat\ndog\n")]
    long_name = "d/" + "x" * 120 + "/file.bin"
    ustar = tar(files, tarfile.USTAR_FORMAT)
    return {
        "ustar": b"\x00" + ustar,
        "ustar-gzip": b"\x05" + gzip.compress(ustar),
        "gnu-long-name": b"\x00" + tar([(long_name, b"long")], tarfile.GNU_FORMAT),
        "pax-long-name": b"\x02" + tar([(long_name, b"pax"), ("ünï/c.txt", b"c")], tarfile.PAX_FORMAT),
        "symlink-and-dir": b"\x00" + tar([("a/", None), ("a/link", "../b"), ("b", b"bbbb")], tarfile.GNU_FORMAT),
        "bad-truncated": b"\x00" + ustar[:700],
        "bad-checksum": b"\x00" + ustar[:148] + b"0000000\x00" + ustar[156:],
        "no-end-blocks": b"\x00" + ustar[:1536],
    }


# --- gzip / zlib / xz -------------------------------------------------------------------------------------

TEXT = b"gradients as features " * 20


def gzips():
    member = gzip.compress(TEXT)
    return {
        "gzip": member,
        "zlib": zlib.compress(TEXT),
        "two-members": member + gzip.compress(b"second"),
        "trailing-zeros": member + bytes(16),
        "empty-member": gzip.compress(b""),
        "bad-truncated": member[:-10],
        "bad-crc": member[:-8] + b"\x00\x00\x00\x00" + member[-4:],
    }


def xzs():
    stream = lzma.compress(TEXT, format=lzma.FORMAT_XZ)
    return {
        "xz": stream,
        "two-streams": stream + lzma.compress(b"second", format=lzma.FORMAT_XZ),
        "empty": lzma.compress(b"", format=lzma.FORMAT_XZ),
        "bad-truncated": stream[:-12],
        "bad-lzma-alone": lzma.compress(TEXT, format=lzma.FORMAT_ALONE),
    }


# --- MATLAB level 5 ---------------------------------------------------------------------------------------

def mat_element(kind, data):
    if len(data) <= 4 and kind != 14 and kind != 15:
        return struct.pack("<HH", kind, len(data)) + data.ljust(4, b"\x00")
    padding = b"" if kind == 15 else bytes(-len(data) % 8)
    return struct.pack("<II", kind, len(data)) + data + padding


def mat_matrix(name, class_id, dims, kind, data):
    body = mat_element(6, struct.pack("<II", class_id, 0))
    body += mat_element(5, b"".join(struct.pack("<i", d) for d in dims))
    body += mat_element(1, name.encode())
    body += mat_element(kind, data)
    return mat_element(14, body)


def mat_file(elements, text="MATLAB 5.0 MAT-file, written by Fuzz/make_corpus.py", endian=b"IM"):
    header = text.encode().ljust(116, b" ") + bytes(8) + struct.pack("<H", 0x0100) + endian
    return header + b"".join(elements)


def mats():
    h, w, n = 2, 2, 2
    x = mat_matrix("X", 9, [h, w, 3, n], 2, bytes(range(h * w * 3 * n)))
    y = mat_matrix("y", 6, [n, 1], 9, struct.pack("<2d", 1.0, 10.0))
    y_uint8 = mat_matrix("y", 9, [n, 1], 2, bytes([3, 10]))
    compressed = mat_element(15, zlib.compress(x))
    return {
        "svhn-two-images": mat_file([x, y]),
        "svhn-compressed": mat_file([compressed, y_uint8]),
        "single-and-int16": mat_file([mat_matrix("s", 7, [1, 2], 3, struct.pack("<2h", -1, 7)), y]),
        "bad-big-endian": mat_file([x, y], endian=b"MI"),
        "bad-v73": mat_file([], text="MATLAB 7.3 MAT-file"),
        "bad-truncated": mat_file([x, y])[:-20],
        "bad-label-zero": mat_file([x, mat_matrix("y", 6, [n, 1], 9, struct.pack("<2d", 0.0, 1.0))]),
        "bad-count": mat_file([mat_matrix("X", 9, [h, w, 3, 3], 2, bytes(24)), y]),
    }


# --- JPEG and PNG -----------------------------------------------------------------------------------------

def jpeg(width, height, components, adobe=False, eoi=True):
    """A baseline JPEG of uniform grey: one-code Huffman tables, every block "DC 0, EOB" (2 bits)."""
    def segment(marker, payload):
        return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload

    out = b"\xff\xd8"
    if adobe:
        out += segment(0xEE, b"Adobe" + struct.pack(">HHHB", 100, 0, 0, 0))
    out += segment(0xDB, b"\x00" + bytes([1] * 64))
    comps = b"".join(bytes([i + 1, 0x11, 0]) for i in range(components))
    out += segment(0xC0, struct.pack(">BHHB", 8, height, width, components) + comps)
    one_code = bytes([1] + [0] * 15) + b"\x00"
    out += segment(0xC4, b"\x00" + one_code + b"\x10" + one_code)
    out += segment(0xDA, bytes([components]) + b"".join(bytes([i + 1, 0]) for i in range(components)) + b"\x00\x3f\x00")
    bits = "00" * components * ((width + 7) // 8) * ((height + 7) // 8)
    bits += "1" * (-len(bits) % 8)
    out += bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8))
    return out + (b"\xff\xd9" if eoi else b"")


def png(width, height, color_type, bit_depth=8, rows=None, palette=None, crc_ok=True):
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color_type]
    row_bytes = (width * channels * bit_depth + 7) // 8
    raw = rows if rows is not None else b"".join(
        b"\x00" + bytes((y * 31 + x) % 256 for x in range(row_bytes)) for y in range(height))

    def chunk(kind, data):
        crc = zlib.crc32(kind + data) if crc_ok else 0
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0))
    if palette:
        out += chunk(b"PLTE", palette)
    return out + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def jpegs():
    # Choice byte: odd = decode to grey, even = RGB.
    return {
        "grey-8x8": b"\x00" + jpeg(8, 8, 1),
        "grey-to-grey-13x5": b"\x01" + jpeg(13, 5, 1),
        "rgb-16x8": b"\x00" + jpeg(16, 8, 3),
        "cmyk-adobe": b"\x00" + jpeg(8, 8, 4, adobe=True),
        "bad-no-eoi": b"\x00" + jpeg(8, 8, 1, eoi=False),
        "bad-cut-in-scan": b"\x00" + jpeg(64, 64, 3)[:-40],
        "bad-zero-width": b"\x00" + jpeg(0, 8, 1),
    }


def pngs():
    palette_rows = b"".join(b"\x00" + bytes([0x1B]) for _ in range(3))
    return {
        "grey-4x4": b"\x00" + png(4, 4, 0),
        "rgb-3x2": b"\x00" + png(3, 2, 2),
        "rgba-to-grey": b"\x01" + png(2, 2, 6),
        "palette-2bit": b"\x00" + png(4, 3, 3, bit_depth=2, rows=palette_rows, palette=bytes(range(12))),
        "grey-16bit": b"\x00" + png(2, 2, 0, bit_depth=16),
        "bad-crc": b"\x00" + png(4, 4, 0, crc_ok=False),
        "bad-short-idat": b"\x00" + png(8, 8, 2, rows=b"\x00" * 10),
        "bad-truncated": b"\x00" + png(4, 4, 2)[:-20],
    }


# --- COCO and config files -------------------------------------------------------------------------------

def cocos():
    # 32 choice bytes (zeros: every image present, a valid 1x1 JPEG, in a tar archive), then the JSON.
    head = bytes(32)
    instances = {
        "images": [{"id": 1, "file_name": "1.jpg"}, {"id": 2, "file_name": "2.png"}, {"id": 3, "file_name": "3.jpg"}],
        "annotations": [{"image_id": 1, "category_id": 18}, {"image_id": 3, "category_id": 1},
                        {"image_id": 3, "category_id": 18, "iscrowd": 1}],
        "categories": [{"id": 1, "name": "person"}, {"id": 18, "name": "dog"}],
    }
    def case(value):
        return head + json.dumps(value).encode()

    no_category = dict(instances, annotations=[{"image_id": 1, "category_id": 99}])
    missing = {k: v for k, v in instances.items() if k != "categories"}
    wrong_type = dict(instances, images=[{"id": "1", "file_name": "1.jpg"}])
    absent = dict(instances, images=instances["images"] + [{"id": 9, "file_name": "nope.jpg"}])
    return {
        "three-images": case(instances),
        "gzip": bytes([0] * 31 + [1]) + gzip.compress(json.dumps(instances).encode()),
        "empty-lists": case({"images": [], "annotations": [], "categories": []}),
        "bad-unknown-category": case(no_category),
        "bad-missing-categories": case(missing),
        "bad-id-type": case(wrong_type),
        "bad-absent-image": case(absent),
        "bad-truncated-json": case(instances)[:-7],
    }


CONFIG = {
    "dataset": "cifar10", "model": "bigan-cifar", "weights": "runs/w.h5",
    "mode": ["activation", "gradient", {"name": "gradfeat", "options": {"width": 512}}, "finetune"],
    "linearize": ["conv5"], "output": "runs/compare", "optim": "adam", "lr": 0.001, "beta1": 0.5,
    "beta2": 0.999, "wd": 1e-6, "batchsize": 64, "niter": 5000, "stepsize": 20000, "stepfactor": 0.5,
    "clip": None, "eval_every": 1000, "seed": 0,
}


def yamls():
    plain = {k: "null" if v is None else v for k, v in CONFIG.items() if k not in ("mode", "linearize")}
    valid = "".join(f"{k}: {v}\n" for k, v in plain.items()) + "linearize: [conv5]\n"
    valid += "mode:\n  - activation\n  - name: gradfeat\n    options: {width: 512}\n"
    deep = "a: " + "[" * 40 + "]" * 40 + "\n"
    return {
        "example": valid,
        "preset-released": "preset: released\nniter: 10\nmode: activation, gradfeat\n",
        "quoted-strings": "model: 'bigan-cifar'\ndataset: \"cifar10\"\n",
        "empty": "",
        "comments-only": "# nothing\n",
        "bad-anchor": "lr: &x 0.1\nwd: *x\n",
        "bad-tag": "niter: !!str 5\n",
        "bad-duplicate": "lr: 0.1\nlr: 0.2\n",
        "bad-yes": "standardize: yes\n",
        "bad-inf": "lr: .inf\n",
        "bad-big-int": "niter: 99999999999999999999\n",
        "bad-unknown-key": "learning_rate: 0.1\n",
        "bad-top-level-list": "- lr\n- wd\n",
        "bad-deep": deep,
        "bad-image-size": "image_size: 0\ntest_fraction: 1.5\n",
    }


def jsons():
    deep = '{"a": ' + "[" * 40 + "]" * 40 + "}"
    return {
        "example": json.dumps(CONFIG, indent=1),
        "preset-released": '{"preset": "released", "niter": 10, "mode": "activation, gradfeat"}',
        "empty-object": "{}",
        "bad-list": "[1, 2]",
        "bad-type": '{"niter": "many", "lr": true}',
        "bad-fraction": '{"niter": 2.5, "test_fraction": 0}',
        "bad-unknown-key": '{"learning_rate": 0.1}',
        "bad-deep": deep,
        "bad-truncated": json.dumps(CONFIG)[:-9],
    }


# --- targets whose input is all choices -----------------------------------------------------------------

def choices(name, sizes=(16, 64, 256)):
    rng = random.Random(name)
    seeds = {"zeros": bytes(64)}
    for i, size in enumerate(sizes):
        seeds[f"random-{i}"] = bytes(rng.randrange(256) for _ in range(size))
    seeds["small-values"] = bytes(rng.randrange(4) for _ in range(128))
    return seeds


TARGETS = {
    "FuzzCIFARBinary": cifar,
    "FuzzIDX": mnist,
    "FuzzTar": tars,
    "FuzzGzip": gzips,
    "FuzzXZ": xzs,
    "FuzzMAT": mats,
    "FuzzJPEG": jpegs,
    "FuzzPNG": pngs,
    "FuzzImageFolder": lambda: choices("FuzzImageFolder"),
    "FuzzVOC": lambda: choices("FuzzVOC"),
    "FuzzCOCO": cocos,
    "FuzzConfigYAML": yamls,
    "FuzzConfigJSON": jsons,
    "FuzzDatasetCache": lambda: choices("FuzzDatasetCache"),
    "FuzzActivationCache": lambda: choices("FuzzActivationCache"),
    "FuzzWeights": lambda: choices("FuzzWeights"),
    "FuzzCheckpoint": lambda: choices("FuzzCheckpoint"),
}


def main():
    if CORPUS.exists():
        shutil.rmtree(CORPUS)
    total = 0
    for target, make in TARGETS.items():
        folder = CORPUS / target
        folder.mkdir(parents=True)
        for name, data in make().items():
            data = data.encode() if isinstance(data, str) else data
            assert len(data) < 64 * 1024, (target, name, len(data))
            (folder / name).write_bytes(data)
            total += len(data)
    assert total < 2 * 1024 * 1024, total
    print(f"wrote {sum(1 for _ in CORPUS.rglob('*') if _.is_file())} seeds ({total} bytes) to {CORPUS}")


if __name__ == "__main__":
    main()
