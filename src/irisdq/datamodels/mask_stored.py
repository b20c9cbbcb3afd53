"""A mask file's DQ array and DQ_DEF rows exactly as stored, for checking it.

:class:`~irisdq.datamodels.TMTMaskModel` gives a mask in the pipeline's
flags: it remaps a file's own bits by their DQ_DEF names and refuses a
table it cannot use. A check of the file needs what is written instead,
bad rows and unnamed bits included: :func:`read_stored_mask` gives that.
"""

import os

import numpy as np

from irisdq.dqflags import DQDefRow, dq_def_values
from irisdq.errors import DataModelError

__all__ = ["read_stored_mask"]


def read_stored_mask(
    path: str | os.PathLike,
) -> tuple[np.ndarray, list[DQDefRow] | None]:
    """Return a mask file's DQ array and DQ_DEF rows, neither remapped nor checked.

    Parameters
    ----------
    path : str or os.PathLike
        The mask file.

    Returns
    -------
    dq : numpy.ndarray
        The DQ image as stored (uint32 for BZERO-scaled int32, else the
        stored type, negative values kept).
    rows : list of DQDefRow or None
        The DQ_DEF rows (BIT is -1 when the table has no BIT column; a
        signed 32-bit VALUE, as liger_iris_pipeline writes, is read as its
        unsigned bits), or None when the file has no DQ_DEF extension.

    Raises
    ------
    DataModelError
        If the file has no DQ image, or it or its DQ_DEF cannot be read.
    FileNotFoundError
        If it does not exist.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from irisdq.datamodels import TMTMaskModel
    >>> mask = TMTMaskModel()
    >>> mask.meta.detector = "IRIS1"
    >>> mask.meta.subarray.name = "CUSTOM"
    >>> mask.dq = np.full((2, 3), 1024)
    >>> out = mask.write(pathlib.Path(tempfile.mkdtemp()) / "m.fits")
    >>> dq, rows = read_stored_mask(out)
    >>> dq.dtype, dq.shape, rows[10].name, rows[10].value
    (dtype('uint32'), (2, 3), 'DEAD', 1024)
    """
    from astropy.io import fits

    source = os.fspath(path)
    try:
        with fits.open(path, memmap=False) as hdus:
            if "DQ" not in hdus or hdus["DQ"].data is None:
                raise DataModelError(
                    f"{source}: no DQ image extension; a mask keeps its flags "
                    "in an extension named DQ"
                )
            dq = np.array(hdus["DQ"].data)
            if "DQ_DEF" not in hdus:
                return dq, None
            table = hdus["DQ_DEF"].data
            names = {name.upper(): name for name in table.columns.names}
            described = names.get("DESCRIPTION")
            values = dq_def_values(table[names["VALUE"]])
            rows = [
                DQDefRow(
                    int(row[names["BIT"]]) if "BIT" in names else -1,
                    int(value),
                    str(row[names["NAME"]]).strip(),
                    str(row[described]).strip() if described else "",
                )
                for row, value in zip(table, values, strict=True)
            ]
    except (DataModelError, FileNotFoundError):
        raise
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        # astropy reports a damaged file with any of these.
        raise DataModelError(
            f"{source}: cannot read the mask ({' '.join(str(exc).split())}); it "
            "needs a DQ image and, optionally, a DQ_DEF table with BIT, VALUE, "
            "NAME and DESCRIPTION columns"
        ) from None
    return dq, rows
