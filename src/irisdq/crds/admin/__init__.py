"""Administration of a CRDS cache: checking it, and writing into it.

Selection (:mod:`irisdq.crds`) only reads a cache and never imports these
modules; they are for the people who keep the cache:

- :mod:`~irisdq.crds.admin.check`: ``irisdq crds check``, every problem of
  a cache (:func:`~irisdq.crds.admin.check.check_cache`);
- :mod:`~irisdq.crds.admin.checksum`: ``irisdq crds checksum``, a mapping's
  ``sha1sum`` rewritten in place
  (:func:`~irisdq.crds.admin.checksum.update_checksum`, also importable as
  ``irisdq.crds.update_checksum``);
- ``irisdq crds add``, masks delivered as a new context:
  :mod:`~irisdq.crds.admin.delivery` (:func:`~irisdq.crds.admin.delivery.deliver`,
  and the all-or-nothing filing into the cache,
  :func:`~irisdq.crds.admin.delivery.write_delivery`), which plans with
  :mod:`~irisdq.crds.admin.planning` (the new rmaps, imaps and pmap), keyed
  and inserted by :mod:`~irisdq.crds.admin.rules`, written out by
  :mod:`~irisdq.crds.admin.mapping_text`, into a
  :class:`~irisdq.crds.admin.new_context.Delivery`.
"""
