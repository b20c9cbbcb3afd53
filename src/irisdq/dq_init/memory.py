"""DQ initialization of a stdatamodels model in memory.

stpipe pipelines pass models from step to step in memory: jwst's
``Detector1Pipeline`` a ``stdatamodels.jwst.datamodels.RampModel``, the
Liger/IRIS pipeline its own ``RampModel`` (4-D ``dq``, uint16). The step
decides with the same plan as for a file
(:func:`irisdq.dq_init.plan.plan_dq_init`); here that plan is applied to the
model's arrays and recorded where the model's own pipeline records it:

- the DQ arrays of the profile's layout: PIXELDQ (uint32) and GROUPDQ
  (uint8) created as zeros when absent or of the wrong shape, as jwst's own
  step does; or the one DQ array of a Liger ramp, every reading of a pixel
  given its flags;
- the status in ``meta.cal_step.dq_init`` (jwst) or ``meta.drs_step.dq_init``
  (Liger/IRIS), whichever the model's schema has;
- the reference in the entry the model's schema writes as the profile's
  reference keyword (jwst: ``meta.ref_file.mask.name``, ``R_MASK``;
  Liger/IRIS: ``meta.ref_file.data_quality.name``, ``R_DQ``).

Nothing here reads or writes a file.
"""

from collections.abc import Callable
from typing import Any

import numpy as np

from irisdq.dq_init.core import apply_mask
from irisdq.dq_init.plan import DQInitPlan, Status
from irisdq.exposure import keyword_path
from irisdq.profiles import Profile

__all__ = ["apply_plan", "is_stdatamodel", "record_plan"]

#: Where a pipeline's models keep the status of their calibration steps.
STEP_RECORDS = ("cal_step", "drs_step")


def is_stdatamodel(model: Any) -> bool:
    """Whether `model` is a stdatamodels data model (a schema, a tree).

    Examples
    --------
    >>> is_stdatamodel({"meta": {}})
    False
    """
    return isinstance(getattr(model, "schema", None), dict) and isinstance(
        getattr(model, "instance", None), dict
    )


def _has(node: Any, name: str) -> bool:
    """Whether a stdatamodels node's schema defines `name` (set or not)."""
    try:
        getattr(node, name)
    except AttributeError:
        return False
    return True


def record_plan(model: Any, plan: DQInitPlan, profile: Profile) -> None:
    """Record the step's status and reference in the model's metadata.

    Parameters
    ----------
    model : stdatamodels.DataModel
        Changed in place.
    plan : DQInitPlan
        Its ``status``, ``mask`` (``crds://<file>``, a path, ``N/A``) and
        ``placement`` (a position given for the ramp).
    profile : Profile
        Its ``reference_keyword`` says where the reference goes.
    """
    meta = model.meta
    for record in STEP_RECORDS:
        if _has(meta, record):
            getattr(meta, record).dq_init = plan.status.value
            break
    # The entry the schema writes as the profile's reference keyword (jwst:
    # meta.ref_file.mask.name, R_MASK; Liger: meta.ref_file.data_quality.name,
    # R_DQ); a schema without one records no reference.
    # The entry the schema writes as the profile's reference keyword (jwst:
    # meta.ref_file.mask.name, R_MASK; Liger: meta.ref_file.data_quality.name,
    # R_DQ).
    _set_keyword(model, profile.reference_keyword, plan.mask)
    # A position given for a ramp without one (meta.subarray.xstart...).
    for keyword, (value, _comment) in plan.placement.items():
        _set_keyword(model, keyword, value)


def _set_keyword(model: Any, keyword: str, value: Any) -> None:
    """Set the entry the model's schema writes as ``keyword``; a schema
    without one records nothing."""
    where = keyword_path(model.schema, keyword)
    if where is not None:
        node = model
        for name in where[:-1]:
            node = getattr(node, name)
        setattr(node, where[-1], value)


def apply_plan(
    model: Any,
    plan: DQInitPlan,
    profile: Profile,
    note: Callable[[str, Any, tuple[int, ...]], None],
) -> None:
    """OR the plan's flags into the model's DQ arrays, in place.

    Parameters
    ----------
    model : stdatamodels.DataModel
        A raw ramp in the layout of `profile` (``data`` of its science
        extension's axes).
    plan : DQInitPlan
        A ``COMPLETE`` plan (a skipped one changes nothing).
    profile : Profile
        Its ``ramp`` layout says which arrays the flags go to.
    note : callable
        ``note(name, found, shape)`` is told of each DQ array created: its
        name, what was there (None when absent, else its shape) and the new
        shape.
    """
    if plan.status is not Status.COMPLETE:
        return
    layout = profile.ramp
    shape = tuple(model.data.shape)
    if layout.dq is not None:
        dq = _array(model, layout.dq.lower(), shape, layout.dq_dtype, note)
        y_axis, x_axis = layout.plane_axes()
        index = tuple(
            slice(None) if axis in (y_axis, x_axis) else np.newaxis
            for axis in range(len(shape))
        )
        flags = plan.pixel_flags.astype(dq.dtype, copy=False)
        np.bitwise_or(dq, flags[index], out=dq)
        setattr(model, layout.dq.lower(), dq)
        return
    y_axis, x_axis = layout.plane_axes()
    plane = (shape[y_axis], shape[x_axis])
    pixeldq = _array(model, layout.pixel_dq.lower(), plane, "uint32", note)
    groupdq = _array(model, layout.group_dq.lower(), shape, "uint8", note)
    apply_mask(pixeldq, groupdq, plan.pixel_flags)
    setattr(model, layout.pixel_dq.lower(), pixeldq)
    setattr(model, layout.group_dq.lower(), groupdq)


def _array(model: Any, name: str, shape: tuple[int, ...], dtype: str, note):
    """The model's array `name` when it has the right shape, else zeros."""
    found = model.instance.get(name)
    if found is not None and tuple(np.shape(found)) == shape:
        array = np.asarray(getattr(model, name))
        if array.dtype != np.dtype(dtype) or not array.flags.writeable:
            array = array.astype(dtype)
        return array
    note(name.upper(), None if found is None else tuple(np.shape(found)), shape)
    return np.zeros(shape, dtype=dtype)
