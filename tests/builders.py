"""Builders of small test files shared by several test modules."""

from pathlib import Path

import numpy as np
from astropy.io import fits


def write_full_frame_ramp(path: Path, shape=(1, 2, 16, 16)) -> Path:
    """A raw IRIS1 ramp (SUBARRAY FULL, no SUBSTRT, no DQ arrays) of ones."""
    primary = fits.PrimaryHDU()
    primary.header.update(
        {
            "DATAMODL": "RampModel",
            "TELESCOP": "TMT",
            "INSTRUME": "IRIS",
            "DETECTOR": "IRIS1",
            "SUBARRAY": "FULL",
            "DATE-OBS": "2020-07-13",
            "TIME-OBS": "01:02:03",
        }
    )
    sci = fits.ImageHDU(np.ones(shape, dtype=np.float32), name="SCI")
    fits.HDUList([primary, sci]).writeto(path, checksum=True)
    return path


def write_mask(path: Path, shape=(16, 16)) -> Path:
    """An IRIS1 CUSTOM mask: DO_NOT_USE + DEAD at [3, 4], row 5 HOT."""
    from irisdq.datamodels import TMTMaskModel

    mask = TMTMaskModel()
    mask.meta.instrument.detector = "IRIS1"
    mask.meta.subarray.name = "CUSTOM"
    mask.dq = np.zeros(shape, dtype=np.uint32)
    mask.dq[3, 4] = 1024 | 1
    mask.dq[5, :] = 2048
    return mask.write(path)


def write_night(folder: Path) -> tuple[Path, list[Path]]:
    """A mask, four good ramps ``r0``-``r3`` and ``corrupt_uncal.fits``, a
    ramp cut off inside its SCI header."""
    mask = write_mask(folder / "mask.fits")
    ramps = [write_full_frame_ramp(folder / f"r{i}_uncal.fits") for i in range(4)]
    corrupt = folder / "corrupt_uncal.fits"
    corrupt.write_bytes(ramps[0].read_bytes()[:4000])
    return mask, [*ramps, corrupt]


def call_on_fifo(function, path: Path, timeout: float = 5.0):
    """Call ``function(path)`` with ``path`` a FIFO; return what it raised.

    The call runs in a thread. If it is still blocked (opening or reading
    the FIFO) after ``timeout`` seconds, a writer is opened and closed to
    release it, and the test fails instead of hanging.
    """
    import os
    import threading

    import pytest

    if not path.exists():
        os.mkfifo(path)
    outcome: dict = {}

    def run():
        try:
            function(path)
        except BaseException as exc:  # handed to the test
            outcome["raised"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(timeout)
        pytest.fail(f"{function!r} blocked on the FIFO {path}")
    return outcome.get("raised")


def write_declared_mask(path: Path, shape: tuple[int, ...]) -> Path:
    """A mask whose DQ header declares ``shape`` (uint32), its data sparse.

    The file has the declared size but takes no disk space: a reader that
    trusts the header would allocate the whole array.
    """
    primary = fits.Header([("SIMPLE", True), ("BITPIX", 8), ("NAXIS", 0)])
    primary.update({"EXTEND": True, "INSTRUME": "IRIS", "DETECTOR": "IRIS1"})
    dq = fits.Header([("XTENSION", "IMAGE"), ("BITPIX", 32), ("NAXIS", len(shape))])
    for axis, length in enumerate(reversed(shape), start=1):
        dq[f"NAXIS{axis}"] = length
    dq.update({"PCOUNT": 0, "GCOUNT": 1, "BZERO": 2**31, "EXTNAME": "DQ"})
    size = 4 * int(np.prod(shape))
    with path.open("wb") as stream:
        stream.write(primary.tostring().encode())
        stream.write(dq.tostring().encode())
        stream.truncate(stream.tell() + -(-size // 2880) * 2880)
    return path


def with_card(path: Path, hdu: int, keyword: str, value: str) -> Path:
    """Rewrite one header card of a FITS file in place, as raw text.

    ``value`` is the card's value field as it is written (``"-1"``,
    ``"'x'"``); the checksums are left as they were, now wrong.
    """
    from irisdq.datamodels import read_hdu_layout

    layout = read_hdu_layout(path)[hdu]
    data = bytearray(path.read_bytes())
    for offset in range(layout.header_offset, layout.data_offset, 80):
        if data[offset : offset + 8].decode("ascii").strip() == keyword:
            card = f"{keyword:<8}= {value:>20}".ljust(80)[:80]
            data[offset : offset + 80] = card.encode("latin-1")
            path.write_bytes(bytes(data))
            return path
    raise KeyError(f"{path}: HDU {hdu} has no {keyword} card")


# Kinds of bad pixel that write_calibration_set injects, and the flag that
# should find each.
DEFECT_KINDS = ("DEAD", "LOW_QE", "OPEN", "HOT", "WARM", "NOISY")


def write_calibration_set(
    folder: Path,
    *,
    shape=(256, 256),
    nflats=5,
    ndarks=9,
    per_kind=40,
    seed=0,
) -> tuple[list[Path], list[Path], dict[str, np.ndarray]]:
    """Synthetic flat-field and dark rate images with defects at known places.

    Flats: 20000 DN at the centre under an illumination with a 1.7x
    left-to-right gradient and 20% vignetting, pixel-to-pixel QE scatter of
    2%, shot noise, a few cosmic rays. Darks: 0.005 DN/s with 0.01 DN/s of
    noise per frame and cosmic rays in 0.1% of the pixels of every frame
    (5 to 500 DN/s; several times what a 15 um pixel collects in a long
    dark). Defects, ``per_kind`` of each, at least 4 pixels apart
    and away from the 4-pixel border: DEAD (QE < 0.03), LOW_QE (0.1-0.4),
    OPEN (0.1-0.4, its 4 side neighbours at 1.25), HOT (2-50 DN/s), WARM
    (0.2-0.8 DN/s), NOISY (0.08 DN/s of noise per frame).

    Returns the flat paths, the dark paths and the truth: a boolean map per
    flag (``NOISY`` for the noisy pixels, ``ADJ_OPEN`` for the 8 neighbours
    of the OPEN pixels).
    """
    rng = np.random.default_rng(seed)
    ny, nx = shape
    # Candidate sites on a 4-pixel grid, inside the border, in random order.
    sites = [(y, x) for y in range(8, ny - 8, 4) for x in range(8, nx - 8, 4)]
    order = rng.permutation(len(sites))
    truth = {kind: np.zeros(shape, dtype=bool) for kind in DEFECT_KINDS}
    truth["ADJ_OPEN"] = np.zeros(shape, dtype=bool)
    positions = {}
    for number, kind in enumerate(DEFECT_KINDS):
        chosen = [sites[i] for i in order[number * per_kind : (number + 1) * per_kind]]
        positions[kind] = tuple(np.array(chosen).T)
        truth[kind][positions[kind]] = True
    qe = rng.normal(1.0, 0.02, shape)
    qe[positions["DEAD"]] = rng.uniform(0, 0.03, per_kind)
    qe[positions["LOW_QE"]] = rng.uniform(0.1, 0.4, per_kind)
    qe[positions["OPEN"]] = rng.uniform(0.1, 0.4, per_kind)
    for y, x in zip(*positions["OPEN"], strict=True):
        for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
            qe[y + dy, x + dx] = 1.25
        truth["ADJ_OPEN"][y - 1 : y + 2, x - 1 : x + 2] = True
        truth["ADJ_OPEN"][y, x] = False
    yy, xx = np.mgrid[0:ny, 0:nx]
    radius2 = ((yy - ny / 2) ** 2 + (xx - nx / 2) ** 2) / (ny / 2) ** 2
    light = 20000 * (0.6 + 0.4 * xx / nx) / 0.8 * (1 - 0.2 * radius2)
    flats = []
    for i in range(nflats):
        signal = light * qe * (1 + 0.05 * i)  # the lamp brightens: frames differ
        frame = rng.normal(signal, np.sqrt(np.maximum(signal, 1)))
        hits = rng.random(shape) < 0.002
        frame[hits] += rng.uniform(500, 50000, hits.sum())
        path = folder / f"flat_{i}.fits"
        fits.PrimaryHDU(frame.astype(np.float32)).writeto(path)
        flats.append(path)
    base = np.full(shape, 0.005)
    base[positions["HOT"]] = rng.uniform(2, 50, per_kind)
    base[positions["WARM"]] = rng.uniform(0.2, 0.8, per_kind)
    sigma = np.full(shape, 0.01)
    sigma[positions["NOISY"]] = 0.08
    darks = []
    for i in range(ndarks):
        frame = rng.normal(base, sigma)
        hits = rng.random(shape) < 0.001
        frame[hits] += rng.uniform(5, 500, hits.sum())
        path = folder / f"dark_{i}.fits"
        fits.PrimaryHDU(frame.astype(np.float32)).writeto(path)
        darks.append(path)
    return flats, darks, truth


def write_dated_mask(
    path: Path, useafter: str, subarray: str = "GENERIC", detector: str = "IRIS1"
) -> Path:
    """An IRIS mask for delivery: USEAFTER and SUBARRAY as given; 16x16,
    or 4096x4096 for SUBARRAY FULL (a full-frame IRIS mask must be)."""
    from irisdq.datamodels import TMTMaskModel

    mask = TMTMaskModel()
    mask.meta.instrument.detector = detector
    mask.meta.subarray.name = subarray
    mask.meta.useafter = useafter
    side = 4096 if subarray == "FULL" else 16
    mask.dq = np.zeros((side, side), dtype=np.uint32)
    mask.dq[2, 3] = 1024 | 1
    return mask.write(path)


def write_shipped_cache(root: Path) -> Path:
    """A cache holding the shipped TMT mappings and the mask they select
    (a small IRIS1 mask from :func:`write_mask`); returns the mask's path."""
    import shutil

    from irisdq.crds.cache import shipped_mapping_folder

    folder = root / "mappings" / "tmt"
    folder.mkdir(parents=True, exist_ok=True)
    for mapping in shipped_mapping_folder().glob("*.?map"):
        shutil.copy(mapping, folder / mapping.name)
    references = root / "references" / "tmt" / "iris"
    references.mkdir(parents=True, exist_ok=True)
    return write_mask(references / "tmt_iris_mask_0001.fits")


def asdf_extension(tree: dict) -> fits.BinTableHDU:
    """An ``ASDF`` extension holding ``tree``, laid out as stdatamodels
    writes it: one row, one column of the ASDF file's bytes."""
    import io

    import asdf

    buffer = io.BytesIO()
    asdf.AsdfFile(tree).write_to(buffer)
    data = np.frombuffer(buffer.getvalue(), dtype=np.uint8)[None, :]
    column = fits.Column("ASDF_METADATA", f"{data.shape[1]}B", array=data)
    return fits.BinTableHDU.from_columns([column], name="ASDF")


def read_asdf_tree(path: Path) -> dict:
    """The tree of a FITS file's ``ASDF`` extension (arrays that point to
    FITS extensions left as asdf reads them)."""
    import io
    import warnings

    import asdf

    with fits.open(path) as hdul:
        data = hdul["ASDF"].data.tobytes()
    with warnings.catch_warnings():
        # asdf cannot resolve the ``fits:`` links outside stdatamodels, and
        # says so; they are kept as nodes.
        warnings.simplefilter("ignore")
        with asdf.open(io.BytesIO(data)) as af:
            return dict(af.tree)


def write_observatory_cache(
    root: Path,
    observatory: str,
    instrument: str,
    reftype: str,
    parkey: tuple,
    selector: str,
    number: str = "0001",
) -> Path:
    """A CRDS cache of one observatory: a pmap, an imap and one rmap of
    `reftype` (Match then UseAfter) whose ``parkey`` and ``selector`` text
    are given, with correct
    sha1sums. Returns the folder references go into
    (``references/<observatory>/<instrument>``)."""
    from irisdq.crds import update_checksum

    obs, inst = observatory.lower(), instrument.lower()
    folder = root / "mappings" / obs
    folder.mkdir(parents=True, exist_ok=True)
    pmap = folder / f"{obs}_{number}.pmap"
    imap = folder / f"{obs}_{inst}_{number}.imap"
    rmap = folder / f"{obs}_{inst}_{reftype.lower()}_{number}.rmap"
    header = f"'observatory' : '{observatory.upper()}',\n    'sha1sum' : '0',\n"
    pmap.write_text(
        f"header = {{\n    'mapping' : 'PIPELINE',\n    'name' : '{pmap.name}',\n"
        f"    'parkey' : ('META.INSTRUMENT.NAME',),\n    {header}}}\n\n"
        f"selector = {{\n    '{instrument.upper()}' : '{imap.name}',\n}}\n"
    )
    imap.write_text(
        f"header = {{\n    'instrument' : '{instrument.upper()}',\n"
        f"    'mapping' : 'INSTRUMENT',\n    'name' : '{imap.name}',\n"
        f"    'parkey' : ('REFTYPE',),\n    {header}}}\n\n"
        f"selector = {{\n    '{reftype.lower()}' : '{rmap.name}',\n}}\n"
    )
    rmap.write_text(
        f"header = {{\n    'classes' : ('Match', 'UseAfter'),\n"
        f"    'filekind' : '{reftype.upper()}',\n"
        f"    'instrument' : '{instrument.upper()}',\n"
        f"    'mapping' : 'REFERENCE',\n    'name' : '{rmap.name}',\n"
        f"    'parkey' : {parkey!r},\n    {header}}}\n\nselector = {selector}\n"
    )
    for mapping in (rmap, imap, pmap):
        update_checksum(mapping)
    references = root / "references" / obs / inst
    references.mkdir(parents=True, exist_ok=True)
    return references


def write_foreign_mask(
    path: Path,
    dq: np.ndarray,
    rows,
    *,
    style: str,
    dq_def_name: str = "DQ_DEF",
    header: dict | None = None,
) -> Path:
    """A mask as another pipeline writes it, built with astropy.

    ``style='jwst'``: what stdatamodels' ``MaskModel.save`` writes
    (DATAMODL MaskModel, TELESCOP JWST, REFTYPE MASK, DQ int32 + BZERO 2**31,
    DQ_DEF VALUE uint32 as int32 + TZERO 2**31, EXTVER, no checksums).
    ``style='liger'``: liger_iris_pipeline's ``DQModel`` (DATAMODL DQModel,
    REFTYPE 'dq', INSTRUME IRIS, DQ uint32, DQ_DEF VALUE int32: bit 31 is
    -2**31). ``rows`` are (BIT, VALUE, NAME, DESCRIPTION) tuples, VALUE
    unsigned; ``header`` adds or replaces primary keywords.
    """
    dq = np.asarray(dq, dtype=np.uint32)
    primary = fits.PrimaryHDU()
    if style == "jwst":
        primary.header.update(
            {
                "DATAMODL": "MaskModel",
                "TELESCOP": "JWST",
                "REFTYPE": "MASK",
                "PEDIGREE": "GROUND",
                "DESCRIP": "bad pixel mask",
                "AUTHOR": "test",
                "USEAFTER": "2000-01-01T00:00:00",
                "INSTRUME": "NIRCAM",
                "DETECTOR": "NRCA1",
                "SUBARRAY": "FULL",
            }
        )
    elif style == "liger":
        primary.header.update(
            {
                "DATAMODL": "DQModel",
                "TELESCOP": "TMT",
                "INSTRUME": "IRIS",
                "DETECTOR": "IMG1",
                "REFTYPE": "dq",
                "PEDIGREE": "GROUND",
                "DESCRIP": "bad pixel mask",
                "AUTHOR": "test",
                "USEAFTER": "2000-01-01T00:00:00",
            }
        )
    else:
        raise ValueError(f"unknown style {style!r}")
    primary.header.update(header or {})
    image = fits.ImageHDU(dq, name="DQ", uint=True)
    values = np.array([row[1] for row in rows], dtype=np.uint32)
    if style == "jwst":
        value = fits.Column("VALUE", "J", bzero=2**31, array=values)
    else:
        value = fits.Column("VALUE", "J", array=values.view(np.int32))
    table = fits.BinTableHDU.from_columns(
        [
            fits.Column("BIT", "J", array=[row[0] for row in rows]),
            value,
            fits.Column("NAME", "40A", array=[row[2] for row in rows]),
            fits.Column("DESCRIPTION", "80A", array=[row[3] for row in rows]),
        ],
    )
    # Set in the header: astropy's ``name`` would upper-case it.
    table.header["EXTNAME"] = dq_def_name
    if style == "jwst":
        image.header["EXTVER"] = (1, "extension value")
        table.header["EXTVER"] = (1, "extension value")
    fits.HDUList([primary, image, table]).writeto(path, checksum=style == "liger")
    return path


def write_ligeriri_cache(cache: Path, reftype: str) -> None:
    """A ligeriri context ``ligeriri_0001.pmap`` in the cache folder `cache`:
    its IRIS imap files masks under `reftype` (``dq`` as liger_iris_pipeline,
    or ``mask``), in an rmap with one rule (IMG1, FULL, from 2015-10-01)."""
    from irisdq.crds import update_checksum

    folder = cache / "mappings" / "ligeriri"
    folder.mkdir(parents=True)
    (cache / "references" / "ligeriri" / "iris").mkdir(parents=True)
    texts = {
        "ligeriri_0001.pmap": "header = {\n    'mapping' : 'PIPELINE',\n"
        "    'name' : 'ligeriri_0001.pmap',\n    'observatory' : 'LIGERIRI',\n"
        "    'parkey' : ('META.INSTRUMENT.NAME',),\n    'sha1sum' : 'x',\n}\n\n"
        "selector = {\n    'IRIS' : 'ligeriri_iris_0001.imap',\n}\n",
        "ligeriri_iris_0001.imap": "header = {\n    'instrument' : 'IRIS',\n"
        "    'mapping' : 'INSTRUMENT',\n    'name' : 'ligeriri_iris_0001.imap',\n"
        "    'observatory' : 'LIGERIRI',\n    'parkey' : ('REFTYPE',),\n"
        "    'sha1sum' : 'x',\n}\n\n"
        f"selector = {{\n    '{reftype}' : 'ligeriri_iris_{reftype}_0001.rmap',\n}}\n",
        f"ligeriri_iris_{reftype}_0001.rmap": "header = {\n"
        "    'classes' : ('Match', 'UseAfter'),\n    'file_ext' : '.fits',\n"
        f"    'filekind' : '{reftype.upper()}',\n    'instrument' : 'IRIS',\n"
        "    'mapping' : 'REFERENCE',\n"
        f"    'name' : 'ligeriri_iris_{reftype}_0001.rmap',\n"
        "    'observatory' : 'LIGERIRI',\n"
        "    'parkey' : (('META.INSTRUMENT.DETECTOR', 'META.SUBARRAY.NAME'), "
        "('META.OBSERVATION.DATE', 'META.OBSERVATION.TIME')),\n"
        "    'sha1sum' : 'x',\n}\n\n"
        "selector = Match({\n    ('IMG1', 'FULL') : UseAfter({\n"
        "        '2015-10-01 00:00:00' : 'ligeriri_iris_dq_0001.fits',\n"
        "    }),\n})\n",
    }
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
        update_checksum(folder / name)


LIGER_HEADER = {
    "DATAMODL": "RampModel",
    "TELESCOP": "Keck-I",
    "INSTRUME": "Liger",
    "DETECTOR": "IMG",
    "INSTERA": "0.0.1",
    "IMTYPE": "SCI",
    "READMODE": "CDS",
    "EXPDTST": "20250314093000",
}


def write_liger_ramp(
    path: Path,
    ny: int,
    nx: int,
    ngroups: int,
    nreads: int,
    header: dict | None = None,
    dq: np.ndarray | None = None,
    *,
    asdf: bool = True,
) -> Path:
    """A Liger/IRIS 2025 raw ramp written with astropy alone: DATA uint16
    (ny, nx, ngroups, nreads) of distinct counts (astropy stores it as int16
    with BZERO = 32768), ``dq`` as DQ when given (uint16 stored the same way;
    another dtype is stored as astropy stores it), TIMES float64 (ngroups,
    nreads) and, with ``asdf``, an ASDF extension as the pipeline writes it.
    ``header`` updates the primary header (:data:`LIGER_HEADER`)."""
    primary = fits.PrimaryHDU()
    primary.header.update({**LIGER_HEADER, **(header or {})})
    shape = (ny, nx, ngroups, nreads)
    counts = np.arange(np.prod(shape), dtype=np.uint64) * 7919 % 65536
    hdus = [
        primary,
        fits.ImageHDU(counts.astype(np.uint16).reshape(shape), name="DATA"),
    ]
    if dq is not None:
        hdus.append(fits.ImageHDU(dq, name="DQ"))
    times = (
        np.arange(ngroups * nreads, dtype=np.float64).reshape(ngroups, nreads) * 1.45
    )
    hdus.append(fits.ImageHDU(times, name="TIMES"))
    if asdf:
        tree = {
            "meta": {"instrument": {"name": "Liger", "detector": "IMG"}},
            "history": {"entries": []},
        }
        hdus.append(asdf_extension(tree))
    fits.HDUList(hdus).writeto(path, checksum=True)
    return path


def write_stock_server_config(
    cache: Path, observatory: str, operational: str, mappings: list[str]
) -> Path:
    """``config/<observatory>/server_config`` of the cache folder `cache`,
    written by the stock crds client's own ``cache_server_info`` (what a
    sync writes: ``pprint.pformat`` of the server's info, with lists), with
    the keys of a synced cache's file. Returns its path."""
    import os

    from crds.core import heavy_client

    info = heavy_client.ConfigInfo(
        {
            "bad_files": " ".join(mappings[:1]),
            "bad_files_list": mappings[:1],
            "context_history": [
                ["2025-06-01 09:14:32", operational, "Delivered by the team.\r\n"],
                ["2015-10-01 00:00:00", mappings[0], "First context\xa0(café)."],
            ],
            "crds_version": {"str": "14.0.3, master, 1234abcd"},
            "download_metadata": "eJyrVkrOz0vPTC1SslJQSsvPV6oFADKXBdM=",
            "edit_context": operational,
            "force_remote_mode": False,
            "last_synced": "2025-06-02 10:00:00.123456",
            "mapping_url": {observatory: f"https://{observatory}.invalid/mappings/"},
            "mappings": sorted(mappings),
            "max_bestrefs_per_rpc": 1000,
            "max_headers_per_rpc": 1000,
            "observatory": observatory,
            "operational_context": operational,
            "reference_url": {observatory: f"https://{observatory}.invalid/refs/"},
            "server": f"https://{observatory}-crds.invalid",
            "versions_context": operational,
        }
    )
    info.status = "server"
    info.connected = True
    saved = os.environ.get("CRDS_PATH")
    os.environ["CRDS_PATH"] = str(cache)
    try:
        heavy_client.cache_server_info(info, observatory)
    finally:
        if saved is None:
            del os.environ["CRDS_PATH"]
        else:
            os.environ["CRDS_PATH"] = saved
    path = cache / "config" / observatory / "server_config"
    # The client only warns when it cannot write: the file must be there.
    assert path.read_text().startswith("{'bad_files': ")
    return path
