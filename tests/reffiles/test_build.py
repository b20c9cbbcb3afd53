import numpy as np
import pytest
from astropy.io import fits

from builders import write_calibration_set
from irisdq import dqflags
from irisdq.datamodels import TMTMaskModel
from irisdq.datamodels.image_rows import ImagePlanes
from irisdq.errors import IrisDQError
from irisdq.reffiles.badpix import Thresholds
from irisdq.reffiles.build import build_mask

# The flag that should find each injected kind of defect.
FLAG_OF = {"NOISY": "UNRELIABLE_SLOPE"}


@pytest.fixture(scope="module")
def calibration(tmp_path_factory):
    folder = tmp_path_factory.mktemp("calibration")
    flats, darks, truth = write_calibration_set(folder, nflats=5, ndarks=7)
    return flats, darks, truth, build_mask(flats, darks)


def _precision_recall(dq, flag, truth):
    found = (dq & np.uint32(dqflags.pixel[flag])) != 0
    hits = np.count_nonzero(found & truth)
    return hits / max(np.count_nonzero(found), 1), hits / np.count_nonzero(truth)


# Defects are injected well inside each class (e.g. LOW_QE response 0.1-0.4
# against cuts at 0.05 and 0.5; noise 1% of the flat): a miss or false alarm
# can only come from the noise tails, the CR pile-ups or a noisy pixel whose
# median drifts past WARM, rare events, so 0.95 leaves room for two of 40.
# Noisy pixels have 8x the normal scatter, and with 7 darks about 1 in 20 of
# them shows less scatter than the cut by chance: 0.9.
@pytest.mark.parametrize(
    ("kind", "floor"),
    [
        ("DEAD", 0.95),
        ("LOW_QE", 0.95),
        ("OPEN", 0.95),
        ("ADJ_OPEN", 0.95),
        ("HOT", 0.95),
        ("WARM", 0.95),
        ("NOISY", 0.9),
    ],
)
def test_injected_defects_are_found_with_high_precision_and_recall(
    calibration, kind, floor
):
    _, _, truth, result = calibration
    precision, recall = _precision_recall(
        result.mask.dq, FLAG_OF.get(kind, kind), truth[kind]
    )
    assert precision >= floor, precision
    assert recall >= floor, recall


def test_do_not_use_goes_with_dead_hot_open_and_reference_pixels(calibration):
    result = calibration[3]
    dq = result.mask.dq
    do_not_use = (dq & 1) != 0
    severe = (
        dq & np.uint32(dqflags.encode_flags("DEAD,HOT,OPEN,REFERENCE_PIXEL"))
    ) != 0
    assert np.array_equal(do_not_use, severe)
    border = (dq & np.uint32(dqflags.pixel["REFERENCE_PIXEL"])) != 0
    # The inputs are a 256 x 256 corner of IRIS1: the border of two edges.
    assert border.sum() == 4 * 256 * 2 - 16
    # Reference pixels carry no other flag.
    assert set(np.unique(dq[border]).tolist()) == {2**31 + 1}


def test_the_block_size_does_not_change_the_mask(calibration):
    flats, darks, _, result = calibration
    for rows in (1, 7, 1000):
        other = build_mask(flats, darks, block_rows=rows)
        assert np.array_equal(other.mask.dq, result.mask.dq)


def test_no_read_is_larger_than_a_block(calibration, monkeypatch):
    flats, darks, _, _ = calibration
    sizes = []
    original = ImagePlanes.read

    def spy(self, plane, start, stop):
        sizes.append(stop - start)
        return original(self, plane, start, stop)

    monkeypatch.setattr(ImagePlanes, "read", spy)
    build_mask(flats, darks, block_rows=16)
    assert max(sizes) == 16


@pytest.mark.parametrize("ndarks", [2, 3, 4, 5])
def test_a_cosmic_ray_in_one_dark_never_makes_a_bad_pixel(tmp_path, ndarks):
    rng = np.random.default_rng(ndarks)
    darks = []
    for i in range(ndarks):
        frame = rng.normal(0.005, 0.01, (64, 64)).astype(np.float32)
        if i == ndarks - 1:
            frame[10:50, 10:50] += 1e4  # a cosmic-ray shower in the last dark
        darks.append(tmp_path / f"dark{i}.fits")
        fits.PrimaryHDU(frame).writeto(darks[-1])
    result = build_mask(darks=darks, refpix=0)
    assert result.counts["HOT"] == 0
    assert result.counts["WARM"] == 0
    # Noise alone may pass the noisy cut here and there, never the shower.
    assert not result.mask.dq[10:50, 10:50].any()


def test_one_dark_frame_is_refused(tmp_path):
    path = tmp_path / "dark.fits"
    fits.PrimaryHDU(np.zeros((16, 16), dtype=np.float32)).writeto(path)
    with pytest.raises(IrisDQError, match=r"dark\.fits: one dark frame cannot tell"):
        build_mask(darks=[path])


def _write_ramp(path, slopes, ngroups=5, tgroup=10.0, jump=None):
    """A 4-D ramp: slopes (nints, ny, nx) in DN/s; jump = (int, group, y, x)."""
    times = np.arange(ngroups) * (tgroup or 10.0)
    sci = 100 + slopes[:, None] * times[None, :, None, None]
    if jump is not None:
        i, g, y, x = jump
        sci[i, g:, y, x] += 5000
    primary = fits.PrimaryHDU()
    if tgroup is not None:
        primary.header["TGROUP"] = tgroup
    fits.HDUList([primary, fits.ImageHDU(sci.astype(np.float32), name="SCI")]).writeto(
        path
    )
    return path


def test_ramps_are_fitted_per_integration_and_a_jump_is_rejected(tmp_path):
    rng = np.random.default_rng(4)
    slopes = rng.normal(0.005, 0.001, (3, 32, 32))
    slopes[:, 5, 6] = 4.0  # hot in every integration
    ramp = _write_ramp(tmp_path / "dark_ramp.fits", slopes, jump=(1, 2, 20, 20))
    result = build_mask(darks=[ramp], refpix=0)
    assert result.dark_frames == 3
    assert np.argwhere(result.mask.dq & 2048).tolist() == [[5, 6]]
    assert result.dark_rate[5, 6] == pytest.approx(4.0, rel=1e-5)


def test_a_ramp_without_tgroup_needs_group_time(tmp_path):
    slopes = np.full((2, 8, 8), 0.5)
    ramp = _write_ramp(tmp_path / "r.fits", slopes, tgroup=None)
    with pytest.raises(IrisDQError, match=r"r\.fits: a ramp without a usable TGROUP"):
        build_mask(darks=[ramp], refpix=0)
    result = build_mask(darks=[ramp], refpix=0, group_time=5.0)
    # The groups were 10 s apart; told 5 s, the slope doubles: 1.0, WARM.
    assert np.allclose(result.dark_rate, 1.0, rtol=1e-5)
    assert result.counts["WARM"] == 64


def test_rate_cubes_give_one_frame_per_integration(tmp_path):
    cube = np.full((3, 16, 16), 0.01, dtype=np.float32)
    cube[:, 3, 4] = 7.0
    cube[2, 8, 8] = 900.0  # a cosmic ray in one integration
    path = tmp_path / "rateints.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(cube, name="SCI")]).writeto(path)
    result = build_mask(darks=[path], refpix=0)
    assert result.dark_frames == 3
    assert np.argwhere(result.mask.dq).tolist() == [[3, 4]]


def test_flats_alone_and_integer_encodings(tmp_path):
    flats = []
    for i in range(3):
        frame = np.full((64, 64), 20000 + 1000 * i, dtype=np.uint16)
        frame[40, 41] = 30  # dead
        flats.append(tmp_path / f"flat{i}.fits")
        fits.PrimaryHDU(frame).writeto(flats[-1])  # uint16: BZERO 32768
    result = build_mask(flats, thresholds=Thresholds(illumination_box=16), refpix=0)
    assert np.argwhere(result.mask.dq).tolist() == [[40, 41]]
    assert result.mask.dq[40, 41] == 1024 | 1
    assert result.dark_rate is None
    assert any("no darks" in note for note in result.notes)


def test_the_mask_file_records_its_making(calibration, tmp_path):
    flats, darks, _, result = calibration
    out = result.mask.write(tmp_path / "mask.fits")
    with fits.open(out, checksum=True) as hdul:
        header = hdul[0].header
        assert header["BPMMXDED"] == 0.05
        assert header["BPMHOT"] == 1.0
        assert header["BPMNDARK"] == 7
        assert header["BPMNOISF"] == "UNRELIABLE_SLOPE"
        assert header["SUBARRAY"] == "CUSTOM"
        assert (header["SUBSIZE1"], header["SUBSIZE2"]) == (256, 256)
        history = "\n".join(str(card) for card in header["HISTORY"])
        assert "irisdq" in history
        assert all(str(path) in history for path in (*flats, *darks))
        assert "DQ_DEF" in hdul
    with TMTMaskModel(out) as back:
        assert np.array_equal(back.dq, result.mask.dq)
        assert back.meta.reftype == "MASK"


def test_a_subarray_gets_the_border_of_the_detector_inside_it(tmp_path):
    darks = []
    for i in range(2):
        hdu = fits.PrimaryHDU(np.full((20, 30), 0.01, dtype=np.float32))
        hdu.header["SUBSTRT1"] = 4067  # columns 4067..4096: the last 30
        hdu.header["SUBSTRT2"] = 101
        darks.append(tmp_path / f"d{i}.fits")
        hdu.writeto(darks[-1])
    result = build_mask(darks=darks)
    border = (result.mask.dq & np.uint32(2**31)) != 0
    assert border[:, -4:].all()
    assert border.sum() == 20 * 4
    assert result.mask.meta.subarray.xstart == 4067
    assert result.mask.meta.subarray.ystart == 101


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "give flat-field files, dark files, or both"),
        ({"do_not_use": ["DAED"]}, "unknown pixel flag name 'DAED'"),
        ({"noisy_flag": "NOISY"}, "unknown pixel flag name 'NOISY'"),
        ({"useafter": "yesterday"}, "useafter 'yesterday' is not a date"),
        ({"block_rows": 0}, "block_rows = 0"),
        ({"refpix": 40}, "does not fit"),
    ],
)
def test_bad_parameters_are_one_line_errors(tmp_path, kwargs, message):
    darks = []
    for i in range(2):
        darks.append(tmp_path / f"d{i}.fits")
        fits.PrimaryHDU(np.zeros((16, 16), dtype=np.float32)).writeto(darks[-1])
    if not kwargs:
        darks = []
    with pytest.raises(IrisDQError, match=message) as info:
        build_mask(darks=darks, detector="X", **kwargs)
    assert "\n" not in str(info.value)


def test_inputs_of_different_shapes_are_refused(tmp_path):
    a, b = tmp_path / "a.fits", tmp_path / "b.fits"
    fits.PrimaryHDU(np.zeros((16, 16), dtype=np.float32)).writeto(a)
    fits.PrimaryHDU(np.zeros((16, 17), dtype=np.float32)).writeto(b)
    with pytest.raises(IrisDQError, match=r"b.fits: images are \(16, 17\)"):
        build_mask(darks=[a, b])


def test_a_flat_without_a_positive_level_is_refused(tmp_path):
    path = tmp_path / "flat.fits"
    fits.PrimaryHDU(np.zeros((16, 16), dtype=np.float32)).writeto(path)
    with pytest.raises(IrisDQError, match=r"flat\.fits: frame 0 has a median level"):
        build_mask([path], refpix=0)


def test_useafter_is_normalised(tmp_path):
    darks = []
    for i in range(2):
        darks.append(tmp_path / f"d{i}.fits")
        fits.PrimaryHDU(np.zeros((16, 16), dtype=np.float32)).writeto(darks[-1])
    result = build_mask(darks=darks, useafter="2026-03-01", refpix=0)
    assert result.mask.meta.useafter == "2026-03-01T00:00:00"


def test_pixels_without_a_value_are_flagged_not_dropped(tmp_path):
    flats, darks = [], []
    for i in range(3):
        flat = np.full((32, 32), 1000.0, dtype=np.float32)
        dark = np.full((32, 32), 0.01, dtype=np.float32)
        if i == 1:
            flat[5, 6] = np.nan
            dark[7, 8] = np.nan
        flats.append(tmp_path / f"f{i}.fits")
        darks.append(tmp_path / f"d{i}.fits")
        fits.PrimaryHDU(flat).writeto(flats[-1])
        fits.PrimaryHDU(dark).writeto(darks[-1])
    result = build_mask(
        flats, darks, refpix=0, thresholds=Thresholds(illumination_box=8)
    )
    assert dqflags.decode_flags(int(result.mask.dq[5, 6])) == ["NO_FLAT_FIELD"]
    assert dqflags.decode_flags(int(result.mask.dq[7, 8])) == ["UNRELIABLE_DARK"]
    assert np.count_nonzero(result.mask.dq) == 2


@pytest.mark.parametrize(
    ("starts", "message"),
    [
        ([(1, 1), (1, 2)], r"d1\.fits: starts at SUBSTRT2, SUBSTRT1 = 2, 1"),
        ([(0, 1), (0, 1)], r"d0\.fits: SUBSTRT1 = 0 is not a 1-based pixel index"),
    ],
)
def test_inputs_must_share_a_valid_subarray_start(tmp_path, starts, message):
    darks = []
    for i, (x, y) in enumerate(starts):
        hdu = fits.PrimaryHDU(np.zeros((16, 16), dtype=np.float32))
        hdu.header["SUBSTRT1"], hdu.header["SUBSTRT2"] = x, y
        darks.append(tmp_path / f"d{i}.fits")
        hdu.writeto(darks[-1])
    with pytest.raises(IrisDQError, match=message):
        build_mask(darks=darks)


def test_where_no_light_fell_the_flat_cannot_be_measured(tmp_path):
    flats = []
    for i in range(3):
        flat = np.full((32, 32), 1000.0, dtype=np.float32)
        flat[:16, :16] = 0.0  # a dark corner, a whole illumination block
        flats.append(tmp_path / f"f{i}.fits")
        fits.PrimaryHDU(flat).writeto(flats[-1])
    result = build_mask(flats, refpix=0, thresholds=Thresholds(illumination_box=16))
    corner = result.mask.dq[:8, :8]  # beyond the half block the model ramps over
    assert (corner == dqflags.pixel["NO_FLAT_FIELD"]).all()
    assert result.counts["DEAD"] < 16 * 16


def test_one_file_name_is_one_input(tmp_path):
    path = tmp_path / "cube.fits"
    fits.PrimaryHDU(np.full((2, 16, 16), 0.01, dtype=np.float32)).writeto(path)
    assert build_mask(darks=str(path), refpix=0).darks == [path]


@pytest.mark.parametrize("bits", [0, 33])
def test_dq_bits_out_of_range_is_refused(tmp_path, bits):
    darks = []
    for i in range(2):
        darks.append(tmp_path / f"dark{i}.fits")
        fits.PrimaryHDU(np.full((8, 8), 0.01, dtype=np.float32)).writeto(darks[-1])
    with pytest.raises(IrisDQError, match=f"dq_bits = {bits} must be 1 to 32"):
        build_mask(darks=darks, detector="X", refpix=0, dq_bits=bits)
