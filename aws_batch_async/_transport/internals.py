"""The aiobotocore, botocore (and moto) internals the fast path relies on, in one place.

The fast path (:mod:`.fast_path`) stands in for botocore's per-call machinery, so it depends
on how that machinery works, not only on its public API. Everything it relies on is listed
here. ``tests/transport/test_patches.py`` hashes the source of every function listed, per
supported version, as aiobotocore's own ``tests/test_patches.py`` guards botocore: a release
that changes one fails that test, on purpose, before it reaches a user, and someone reads the
change before adding its hash. At run time an attribute that is missing or shaped otherwise
turns the fast path off for the service (logged at INFO once, with the reason); calls then go
through botocore as they would without the library. ``BatchConfig(fast_path=False)`` turns it
off by hand.
"""

from __future__ import annotations

__all__ = ["ATTRIBUTES", "FUNCTIONS"]

#: Private attributes the fast path reads, and what for.
ATTRIBUTES: dict[str, str] = {
    "client._endpoint": "the endpoint: its HTTP session, retries context, parser factory",
    "client._endpoint.http_session": "sends the request through the client's own pool",
    "client._endpoint._update_retries_context": "keeps botocore's retry context per attempt",
    "client._endpoint._response_parser_factory": "parses error answers as botocore does",
    "client._request_signer": "the signer whose first signature the plan is checked against",
    "client._request_signer._credentials": "the credentials (refreshable) the signer uses",
    "client.meta.events._emitter._handlers": "the handler table read to know every handler",
    "botocore.history:HistoryRecorder._enabled": "a recorder on means botocore must send",
    "ServiceModel._service_description": "the raw shapes the quick parameter check compiles",
}

#: Functions (``module:qualname``) whose behaviour the fast path replays or calls directly.
FUNCTIONS: dict[str, str] = {
    "aiobotocore.client:AioBaseClient._make_api_call": "the events of a call, in order",
    "aiobotocore.client:AioBaseClient._make_request": "how a request reaches the endpoint",
    "aiobotocore.endpoint:AioEndpoint._send_request": "attempts, retries and their events",
    "aiobotocore.endpoint:AioEndpoint._needs_retry": "the needs-retry keyword arguments",
    "aiobotocore.endpoint:AioEndpoint._send": "the HTTP send the fast path does itself",
    "aiobotocore.endpoint:AioEndpoint.create_request": "request-created, then the prepared request",
    "botocore.endpoint:Endpoint._update_retries_context": "called per attempt",
    "aiobotocore.signers:AioRequestSigner.handler": "replaced by the fast path's SigV4 signer",
    "aiobotocore.signers:AioRequestSigner.sign": "what the replaced signer does",
    "botocore.signers:RequestSigner.handler": "replaced by the fast path's SigV4 signer",
    "botocore.auth:SigV4Auth.add_auth": "SigV4, re-implemented with the key cached",
    "botocore.auth:SigV4Auth.canonical_request": "SigV4's canonical request",
    "botocore.auth:SigV4Auth.canonical_headers": "SigV4's canonical headers",
    "botocore.auth:SigV4Auth.headers_to_sign": "SigV4's signed headers",
    "botocore.auth:SigV4Auth.string_to_sign": "SigV4's string to sign",
    "botocore.auth:SigV4Auth.signature": "SigV4's signature",
    "botocore.auth:SigV4Auth._normalize_url_path": "the canonical URI (called directly)",
    "botocore.utils:normalize_url_path": "the canonical URI (fallback)",
    "botocore.serialize:RestJSONSerializer.serialize_to_request": "the body and URL it writes",
    "botocore.history:HistoryRecorder.record": "recording is left to botocore",
    "botocore.hooks:HierarchicalEmitter._emit": "the order handlers run in",
    "botocore.useragent:UserAgentString.rebuild_and_replace_user_agent_handler": "kept as sent",
    "botocore.handlers:generate_idempotent_uuid": "called as botocore calls it",
    "botocore.handlers:_handle_request_validation_mode_member": "called as botocore calls it",
    "botocore.handlers:add_recursion_detection_header": "called as botocore calls it",
    "botocore.handlers:inject_api_version_header_if_needed": "called as botocore calls it",
    "botocore.handlers:add_retry_headers": "called as botocore calls it",
    "botocore.handlers:set_operation_specific_signer": "constant per operation",
    "botocore.handlers:_set_auth_scheme_preference_signer": "constant per operation",
    "botocore.retries.standard:MaxAttemptsSeeder.seed_max_attempts": "called (botocore >= 1.42)",
    "botocore.retries.standard:RetryHandler.needs_retry": "the retry decision, called",
    "botocore.retries.standard:RetryQuotaChecker.release_retry_quota": "after-call, called",
    "aiobotocore.retries.standard:AioRetryHandler.needs_retry": "the retry decision, called",
    "aiobotocore.retryhandler:AioRetryHandler": "legacy retry mode, called",
    "botocore.retryhandler:RetryHandler": "legacy retry mode, called",
    "moto.core.botocore_stubber:BotocoreStubber": "inert until a mock_aws starts",
}
