"""The one patch engine: every change to a rendered manifest goes through here.

Trait patches and environment patches share these pure functions on JSON-like values
(DESIGN.md, "One patch engine"):

- ``strategic.strategic_merge`` - Kubernetes strategic merge patch, merge keys from the
  generated ``_mergekeys`` table;
- ``jsonpatch.apply_json_patch`` - RFC 6902 JSON patch;
- ``mergepatch.apply_merge_patch`` - RFC 7396 JSON merge patch.

Nothing is imported here so that loading one transform does not load the others.
"""
