"""The aiobotocore/botocore internals the fast path relies on have not changed unseen.

As aiobotocore's ``tests/test_patches.py`` guards botocore: the source of every function in
``_transport/internals.py`` is hashed and must be one this project has read, for each
supported version (the floor, aiobotocore 2.25.1 with botocore 1.40.61, and the newest CI
tests, aiobotocore 3.10.0 with botocore 1.43.117). A new release that changes one fails here:
read the change, adapt the fast path if needed, then add the new hash. ``nox -s
tests_newest`` is where such a release shows first.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import re
from pathlib import Path

import pytest

from aws_batch_async._transport import fast_hooks
from aws_batch_async._transport.internals import FUNCTIONS

#: sha256 (first 16 hex digits) of each function's source, per supported version
#: (aiobotocore/botocore). A function absent from a version is not called there.
KNOWN: dict[str, set[str]] = {
    "aiobotocore.client:AioBaseClient._make_api_call": {
        "2be96199935a4b8c",
        "6568ea27af60445c",
    },  # 3.10.0/1.43.117; 2.25.1/1.40.61
    "aiobotocore.client:AioBaseClient._make_request": {"7a98f1ceb7913892"},  # both
    "aiobotocore.endpoint:AioEndpoint._needs_retry": {
        "e0e1e14d904d1f83",
        "2f7faf4fcb3d5119",
    },  # 3.10.0/1.43.117; 2.25.1/1.40.61
    "aiobotocore.endpoint:AioEndpoint._send": {"1d910e2ff7bff8db"},  # both
    "aiobotocore.endpoint:AioEndpoint._send_request": {"45299be64199a2eb"},  # both
    "aiobotocore.endpoint:AioEndpoint.create_request": {"9430edc6b5b565f0"},  # both
    "aiobotocore.retries.standard:AioRetryHandler.needs_retry": {
        "da2f1b6574af4865",
        "3a76c51a1d866ed5",
    },  # 3.10.0/1.43.117; 2.25.1/1.40.61
    "aiobotocore.retryhandler:AioRetryHandler": {"1492b98fa987e437"},  # both
    "aiobotocore.signers:AioRequestSigner.handler": {"adaa09cb0d507fc8"},  # both
    "aiobotocore.signers:AioRequestSigner.sign": {"ca8d778d033b41c2"},  # both
    "botocore.auth:SigV4Auth._normalize_url_path": {"40f7593830e882ca"},  # both
    "botocore.auth:SigV4Auth.add_auth": {"0a37f12b13c3d758"},  # both
    "botocore.auth:SigV4Auth.canonical_headers": {"b730b3c91eeb2128"},  # both
    "botocore.auth:SigV4Auth.canonical_request": {"fcddf419e5c48554"},  # both
    "botocore.auth:SigV4Auth.headers_to_sign": {"ab710967c39dab72"},  # both
    "botocore.auth:SigV4Auth.signature": {"e62ff117617719fa"},  # both
    "botocore.auth:SigV4Auth.string_to_sign": {"5b4ddbeef6205bf9"},  # both
    "botocore.endpoint:Endpoint._update_retries_context": {
        "f50793020b61fed6",
        "b5ec9d130efb1d42",
    },  # 3.10.0/1.43.117; 2.25.1/1.40.61
    "botocore.handlers:_handle_request_validation_mode_member": {"b2e0d81db5244fa7"},  # both
    "botocore.handlers:_set_auth_scheme_preference_signer": {
        "c0ea3746289d414a",
        "5b68fe9de9b580f8",
    },  # 3.10.0/1.43.117; 2.25.1/1.40.61
    "botocore.handlers:add_recursion_detection_header": {"3f859b1770acde71"},  # both
    "botocore.handlers:add_retry_headers": {"9de75c926ca39ca6"},  # both
    "botocore.handlers:generate_idempotent_uuid": {"8a2ce69c34c1235b"},  # both
    "botocore.handlers:inject_api_version_header_if_needed": {"8e266b45b88ff1a4"},  # both
    "botocore.handlers:set_operation_specific_signer": {
        "1f162e31ef0d7366",
        "a3781e656ec27ea4",
    },  # 3.10.0/1.43.117; 2.25.1/1.40.61
    "botocore.history:HistoryRecorder.record": {"758f2923bbccf0f2"},  # both
    "botocore.hooks:HierarchicalEmitter._emit": {"49a68cb02bf450a5"},  # both
    "botocore.retries.standard:MaxAttemptsSeeder.seed_max_attempts": {
        "9579fa390fef8668"
    },  # 3.10.0/1.43.117
    "botocore.retries.standard:RetryHandler.needs_retry": {
        "fae44ea8c9bf6a18",
        "f2f3e4e315c634a1",
    },  # 3.10.0/1.43.117; 2.25.1/1.40.61
    "botocore.retries.standard:RetryQuotaChecker.release_retry_quota": {"a134da0f454b070d"},  # both
    "botocore.retryhandler:RetryHandler": {"2aa15b92883e3e7a"},  # both
    "botocore.serialize:RestJSONSerializer.serialize_to_request": {"c765382e7c70d3e4"},  # both
    "botocore.signers:RequestSigner.handler": {"1b39734ab46c773d"},  # both
    "botocore.useragent:UserAgentString.rebuild_and_replace_user_agent_handler": {
        "c516071e306d41d3"
    },  # both
    "botocore.utils:normalize_url_path": {"cd71e7268936a59a"},  # both
    "moto.core.botocore_stubber:BotocoreStubber": {"4a45d3dcf9571ceb"},  # both
}


def source_hash(name: str) -> str | None:
    module, _, qualname = name.partition(":")
    obj: object = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return hashlib.sha256(inspect.getsource(obj).encode()).hexdigest()[:16]  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_relied_on_function_is_unchanged(name: str) -> None:
    found = source_hash(name)
    if found is None:  # absent here: only allowed where a supported version lacks it too
        assert name == "botocore.retries.standard:MaxAttemptsSeeder.seed_max_attempts"
        return
    assert found in KNOWN[name], (
        f"{name} changed (source hash {found}): read the change, check the fast path "
        "(aws_batch_async/_transport/), then add the hash to KNOWN"
    )


def test_every_handler_the_fast_path_knows_is_guarded() -> None:
    keys: set[str] = set()
    for table in (fast_hooks._CALLED, fast_hooks._CONSTANT):
        for names in table.values():
            keys |= set(names)
    for done in (fast_hooks._DONE, fast_hooks._INERT_WHILE):
        for by_key in done.values():
            keys |= set(by_key)
    assert keys <= set(FUNCTIONS), sorted(keys - set(FUNCTIONS))
    assert set(KNOWN) == set(FUNCTIONS)


def test_every_private_attribute_the_fast_path_reads_is_listed() -> None:
    from aws_batch_async._transport.internals import ATTRIBUTES

    source = (Path(fast_hooks.__file__).parent / "fast_path.py").read_text()
    read = set(re.findall(r"\b(?:client|meta\.events)\.(_[a-z_]+)", source))
    listed = {part for attr in ATTRIBUTES for part in attr.split(".") if part.startswith("_")}
    assert read <= listed, sorted(read - listed)
