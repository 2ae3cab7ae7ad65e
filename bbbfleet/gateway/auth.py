"""Which tenant is calling, proven by the checksum.

A tenant is named by the path prefix ``/t/<tenant>/``, else by the Host header, else (when
``tenant_by_secret`` is on) by whichever tenant's secret makes the checksum valid.  An unknown
tenant is indistinguishable from a wrong checksum, so the gateway reveals nothing to probing.
"""

from __future__ import annotations

from collections.abc import Sequence

from bbbfleet.gateway.directory import Snapshot
from bbbfleet.protocol import errors as E
from bbbfleet.protocol.calls import ApiCall, ChecksumFamily
from bbbfleet.protocol.checksum import ChecksumResult, verify
from bbbfleet.protocol.errors import ApiError
from bbbfleet.storage.repository import Tenant


class Unauthorised(Exception):
    def __init__(self, error: ApiError) -> None:
        super().__init__(error.message)
        self.error = error


def checksum_error(family: ChecksumFamily) -> ApiError:
    if family is ChecksumFamily.RECORDING:
        return E.RECORDING_CHECKSUM
    if family is ChecksumFamily.HOOKS:
        return E.HOOKS_CHECKSUM
    # bbb-web reports a missing checksum with either text; "Checksums do not match" is canonical
    return E.CHECKSUM_MISMATCH


def candidate_tenants(
    snapshot: Snapshot, path_tenant: str | None, host: str | None, by_secret: bool
) -> Sequence[Tenant]:
    if path_tenant is not None:
        tenant = snapshot.tenant_by_name.get(path_tenant)
        return [tenant] if tenant else []
    if host:
        tenant = snapshot.tenant_by_host.get(host.split(":", 1)[0].lower())
        if tenant is not None:
            return [tenant]
    if by_secret or len(snapshot.tenants) == 1:
        return snapshot.tenants
    return []


def authenticate(
    call: ApiCall,
    raw_query: bytes,
    candidates: Sequence[Tenant],
    snapshot: Snapshot,
    algorithms: Sequence[str],
    form_body: bytes | None = None,
) -> Tenant:
    """The tenant whose secret signed this request, or Unauthorised with BBB's checksum error."""
    secrets = [secret for tenant in candidates for secret in tenant.secrets]
    call_name = call.name
    result, secret = verify(call_name, raw_query, secrets, algorithms, form_body)
    if result is not ChecksumResult.VALID or secret is None:
        raise Unauthorised(checksum_error(call.checksum))
    return snapshot.tenant_by_secret[secret]
