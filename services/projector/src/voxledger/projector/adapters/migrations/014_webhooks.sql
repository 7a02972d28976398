-- Webhook endpoints (never their secrets) and deliveries with their attempts, per tenant.
CREATE TABLE webhook_endpoints (
    endpoint_id      uuid PRIMARY KEY,
    tenant_id        text NOT NULL,
    url              text NOT NULL,
    events           jsonb NOT NULL,
    description      text NOT NULL DEFAULT '',
    status           text NOT NULL,  -- enabled, disabled, deleted
    disabled_reason  text,
    secret_rotated_at timestamptz,
    previous_secret_valid_until timestamptz,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    last_seq         bigint NOT NULL
);
CREATE INDEX webhook_endpoints_by_tenant ON webhook_endpoints (tenant_id, endpoint_id DESC) WHERE status <> 'deleted';

CREATE TABLE webhook_deliveries (
    delivery_id      uuid PRIMARY KEY,
    tenant_id        text NOT NULL,
    endpoint_id      uuid NOT NULL,
    webhook_id       text NOT NULL,
    event_type       text NOT NULL,
    resource_id      text NOT NULL,
    payload          jsonb NOT NULL,
    status           text NOT NULL,  -- retrying, delivered, failed, dropped
    attempts         integer NOT NULL DEFAULT 0,
    last_status_code integer,
    last_error       text,
    last_latency_ms  double precision,
    next_retry_at    timestamptz,
    redelivery_of    uuid,
    drop_reason      text,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    last_seq         bigint NOT NULL
);
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, created_at DESC, delivery_id);

CREATE TABLE webhook_attempts (
    delivery_id      uuid NOT NULL,
    attempt          integer NOT NULL,
    tenant_id        text NOT NULL,
    outcome          text NOT NULL,
    status_code      integer,
    error            text,
    latency_ms       double precision,
    response_excerpt text NOT NULL DEFAULT '',
    next_retry_at    timestamptz,
    attempted_at     timestamptz NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);
