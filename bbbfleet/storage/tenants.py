"""Tenants and their secrets."""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.exc import IntegrityError

from bbbfleet.policy import PolicyError, TenantPolicy
from bbbfleet.storage.database import Database
from bbbfleet.storage.models import tenant_secrets, tenants
from bbbfleet.storage.records import AlreadyExists, NotFound, StorageError, Tenant

log = logging.getLogger(__name__)

TENANT_SETTINGS = (
    "default_participants",
    "default_duration_minutes",
    "pool_participants",
    "default_tags",
    "predict_size",
    "allow_tenant_hooks",
    "hook_checksum_version",
    "hook_personal_data",
    "recording_retention_days",
)


def _list(conn: Connection) -> list[Tenant]:
    rows = conn.execute(select(tenants).order_by(tenants.c.name)).all()
    secret_rows = conn.execute(
        select(tenant_secrets.c.tenant_id, tenant_secrets.c.secret).order_by(tenant_secrets.c.id)
    ).all()
    by_tenant: dict[int, list[str]] = {}
    for tenant_id, secret in secret_rows:
        by_tenant.setdefault(tenant_id, []).append(secret)
    return [
        Tenant(
            row.id,
            row.name,
            row.hostname,
            tuple(by_tenant.get(row.id, ())),
            **{name: getattr(row, name) for name in TENANT_SETTINGS},
            policy=_policy(row.name, row.policy),
        )
        for row in rows
    ]


def _policy(tenant: str, text: str | None) -> TenantPolicy:
    try:
        return TenantPolicy.from_json(json.loads(text or "{}"))
    except (ValueError, PolicyError) as exc:  # only a hand-edited database gets here
        log.error("tenant %s has an unusable policy, ignoring it: %s", tenant, exc)
        return TenantPolicy()


class TenantStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def list(self) -> list[Tenant]:
        return await self.db.read(_list)

    async def get(self, name: str) -> Tenant:
        for tenant in await self.list():
            if tenant.name == name:
                return tenant
        raise NotFound(f"no tenant named {name!r}; see 'bbbfleet tenant list'")

    async def add(self, name: str, secret: str, hostname: str | None = None) -> Tenant:
        def insert(conn: Connection) -> int:
            tenant_id: int = conn.execute(
                tenants.insert().values(name=name, hostname=hostname).returning(tenants.c.id)
            ).scalar_one()
            conn.execute(tenant_secrets.insert().values(tenant_id=tenant_id, secret=secret))
            return tenant_id

        try:
            tenant_id = await self.db.write(insert)
        except IntegrityError as exc:
            raise AlreadyExists(
                f"a tenant named {name!r}, with host {hostname!r} or with that secret exists already"
            ) from exc
        return Tenant(tenant_id, name, hostname, (secret,))

    async def configure(self, name: str, **values: Any) -> Tenant:
        """Change a tenant's reservation defaults, pool, tags or size prediction."""
        unknown = set(values) - set(TENANT_SETTINGS)
        if unknown:
            raise StorageError(f"unknown tenant setting(s): {', '.join(sorted(unknown))}")
        tenant = await self.get(name)
        if values:
            await self.db.write(
                lambda conn: conn.execute(
                    update(tenants).where(tenants.c.id == tenant.id).values(**values)
                )
            )
        return await self.get(name)

    async def set_policy(self, name: str, policy: TenantPolicy) -> Tenant:
        """Replace a tenant's parameter policy and chat texts (validated by TenantPolicy)."""
        tenant = await self.get(name)
        text = json.dumps(policy.to_json(), sort_keys=True)
        await self.db.write(
            lambda conn: conn.execute(
                update(tenants).where(tenants.c.id == tenant.id).values(policy=text)
            )
        )
        return await self.get(name)

    async def remove(self, name: str) -> None:
        tenant = await self.get(name)
        await self.db.write(
            lambda conn: conn.execute(delete(tenants).where(tenants.c.id == tenant.id))
        )

    async def add_secret(self, name: str, secret: str) -> None:
        tenant = await self.get(name)
        try:
            await self.db.write(
                lambda conn: conn.execute(
                    tenant_secrets.insert().values(tenant_id=tenant.id, secret=secret)
                )
            )
        except IntegrityError as exc:
            raise AlreadyExists("that secret is already in use; generate a new one") from exc

    async def remove_secret(self, name: str, secret: str) -> None:
        tenant = await self.get(name)
        if secret not in tenant.secrets:
            raise NotFound(f"tenant {name!r} has no such secret; see 'bbbfleet tenant list'")
        if len(tenant.secrets) == 1:
            raise StorageError(
                f"that is the last secret of {name!r}; add the new one first "
                "('bbbfleet tenant add-secret'), then remove this one"
            )
        await self.db.write(
            lambda conn: conn.execute(
                delete(tenant_secrets).where(
                    tenant_secrets.c.tenant_id == tenant.id, tenant_secrets.c.secret == secret
                )
            )
        )
