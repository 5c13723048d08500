"""The checks behind `manage.py verify_ledger`: every ledger rule, over the whole database.

Each check is one SQL query that returns the breaches it finds, one line each. SQL, not for speed:
the checks read PostgreSQL's catalog (the trigger, the exclusion constraint) and compare rows with
window functions over every batch, and they must read the tables as the database holds them, apart
from the models that the code under check uses.
"""

from collections.abc import Callable

from django.db import connection

CHECKS: list[tuple[str, str]] = [
    (
        "live and voided batches of a certificate must tile 1..issued with no gap or overlap",
        """
        WITH live AS (
            SELECT certificate_id, serial_start, serial_end, quantity,
                   lag(serial_end) OVER (PARTITION BY certificate_id ORDER BY serial_start) AS previous_end
            FROM certificates_certificatebatch WHERE status <> 'superseded'
        ), per_certificate AS (
            SELECT c.id, c.serial_base, c.quantity AS issued,
                   coalesce(sum(l.quantity), 0) AS held, min(l.serial_start) AS first, max(l.serial_end) AS last,
                   count(*) FILTER (WHERE l.previous_end IS NOT NULL AND l.serial_start <> l.previous_end + 1) AS seams
            FROM certificates_certificate c LEFT JOIN live l ON l.certificate_id = c.id
            GROUP BY c.id
        )
        SELECT format('certificate %s: live batches hold %s of %s issued, span %s..%s, %s gaps or overlaps',
                      serial_base, held, issued, first, last, seams)
        FROM per_certificate
        WHERE held <> issued OR first IS DISTINCT FROM 1 OR last IS DISTINCT FROM issued OR seams > 0
        """,
    ),
    (
        "a batch's quantity must equal its serial range",
        """
        SELECT format('batch %s: quantity %s but serials %s..%s', id, quantity, serial_start, serial_end)
        FROM certificates_certificatebatch
        WHERE quantity <> serial_end - serial_start + 1 OR quantity <= 0 OR serial_start < 1
        """,
    ),
    (
        "a superseded batch's children must tile it exactly",
        """
        SELECT format('batch %s (superseded) has children holding %s of %s over %s..%s',
                      p.id, coalesce(sum(c.quantity), 0), p.quantity, min(c.serial_start), max(c.serial_end))
        FROM certificates_certificatebatch p
        LEFT JOIN certificates_certificatebatch c ON c.parent_id = p.id
        WHERE p.status = 'superseded'
        GROUP BY p.id
        HAVING coalesce(sum(c.quantity), 0) <> p.quantity
            OR min(c.serial_start) <> p.serial_start OR max(c.serial_end) <> p.serial_end
        """,
    ),
    (
        "a child batch must lie inside its parent, and its parent must be superseded",
        """
        SELECT format('batch %s lies outside or under a live parent %s', c.id, p.id)
        FROM certificates_certificatebatch c JOIN certificates_certificatebatch p ON p.id = c.parent_id
        WHERE p.status <> 'superseded' OR c.certificate_id <> p.certificate_id
           OR c.serial_start < p.serial_start OR c.serial_end > p.serial_end
        """,
    ),
    (
        "every batch must be created by an issuance (an import, for an imported certificate) or split ledger event",
        """
        SELECT format('batch %s has no %s event', b.id,
                      CASE WHEN b.parent_id IS NOT NULL THEN 'split'
                           WHEN c.imported_from_id IS NOT NULL THEN 'import_recorded' ELSE 'issuance' END)
        FROM certificates_certificatebatch b JOIN certificates_certificate c ON c.id = b.certificate_id
        WHERE (b.parent_id IS NULL AND NOT EXISTS (
                  SELECT 1 FROM ledger_ledgerevent e WHERE e.batch_id = b.id
                  AND e.kind = CASE WHEN c.imported_from_id IS NULL THEN 'issuance' ELSE 'import_recorded' END))
           OR (b.parent_id IS NOT NULL AND NOT EXISTS (
                  SELECT 1 FROM ledger_ledgerevent e WHERE e.kind = 'split' AND e.batch_id = b.parent_id))
        """,
    ),
    (
        "every superseded batch must have a split event",
        """
        SELECT format('batch %s is superseded without a split event', b.id)
        FROM certificates_certificatebatch b
        WHERE b.status = 'superseded' AND NOT EXISTS (
            SELECT 1 FROM ledger_ledgerevent e WHERE e.kind = 'split' AND e.batch_id = b.id)
        """,
    ),
    (
        "a pending batch must belong to exactly one pending transfer, and a pending transfer's batches must be pending",
        """
        SELECT format('batch %s is pending in %s pending transfers', b.id, count(t.id))
        FROM certificates_certificatebatch b
        LEFT JOIN transfers_transferitem i ON i.batch_id = b.id
        LEFT JOIN transfers_transfer t ON t.id = i.transfer_id AND t.status = 'pending'
        WHERE b.status = 'pending'
        GROUP BY b.id HAVING count(t.id) <> 1
        UNION ALL
        SELECT format('transfer %s is pending but its batch %s is %s', t.id, b.id, b.status)
        FROM transfers_transfer t JOIN transfers_transferitem i ON i.transfer_id = t.id
        JOIN certificates_certificatebatch b ON b.id = i.batch_id
        WHERE t.status = 'pending' AND b.status <> 'pending'
        """,
    ),
    (
        "retired batches must be in retirement accounts, and only they",
        """
        SELECT format('batch %s is %s in a %s account', b.id, b.status, a.type)
        FROM certificates_certificatebatch b JOIN accounts_account a ON a.id = b.account_id
        WHERE (b.status = 'retired') <> (a.type = 'retirement') AND b.status <> 'superseded'
        """,
    ),
    (
        "every submitted transfer must have its events: initiated, and a closing one once decided",
        """
        SELECT format('transfer %s (%s) has no %s event', t.id, t.status, missing)
        FROM (
            SELECT t.id, t.status,
                   CASE
                     WHEN NOT EXISTS (SELECT 1 FROM ledger_ledgerevent e WHERE e.transfer_id = t.id
                                      AND e.kind IN ('transfer_initiated', 'retirement', 'import_recorded'))
                       THEN 'initiating'
                     WHEN t.status IN ('rejected', 'withdrawn', 'expired')
                          OR (t.status = 'complete' AND t.kind IN ('organization', 'export', 'import'))
                       THEN CASE WHEN NOT EXISTS (
                                SELECT 1 FROM ledger_ledgerevent e WHERE e.transfer_id = t.id AND e.kind IN (
                                    'transfer_accepted', 'transfer_rejected', 'transfer_withdrawn',
                                    'transfer_expired', 'export_confirmed', 'export_rejected'))
                            THEN 'closing' END
                   END AS missing
            FROM transfers_transfer t WHERE t.status NOT IN ('draft', 'failed')
        ) t WHERE missing IS NOT NULL
        """,
    ),
    (
        "a retirement must hold only retired batches in a retirement account, and have its details",
        """
        SELECT format('retirement %s has no details', t.id)
        FROM transfers_transfer t
        WHERE t.kind = 'retirement' AND t.status = 'complete'
          AND NOT EXISTS (SELECT 1 FROM transfers_retirement r WHERE r.transfer_id = t.id)
        UNION ALL
        SELECT format('retirement %s holds batch %s, %s in account %s', t.id, b.id, b.status, b.account_id)
        FROM transfers_transfer t JOIN transfers_transferitem i ON i.transfer_id = t.id
        JOIN certificates_certificatebatch b ON b.id = i.batch_id
        WHERE t.kind = 'retirement' AND (b.status <> 'retired' OR b.account_id <> t.destination_account_id)
        UNION ALL
        SELECT format('retired batch %s belongs to no retirement', b.id)
        FROM certificates_certificatebatch b
        WHERE b.status = 'retired' AND NOT EXISTS (
            SELECT 1 FROM transfers_transferitem i JOIN transfers_transfer t ON t.id = i.transfer_id
            WHERE i.batch_id = b.id AND t.kind = 'retirement' AND t.status = 'complete')
        """,
    ),
    (
        "submitted transfers must have items",
        """
        SELECT format('transfer %s (%s) has no items', t.id, t.status)
        FROM transfers_transfer t
        WHERE t.status NOT IN ('draft', 'failed')
          AND NOT EXISTS (SELECT 1 FROM transfers_transferitem i WHERE i.transfer_id = t.id)
        """,
    ),
    (
        "the database must refuse UPDATE and DELETE on ledger events",
        """
        SELECT 'trigger ledger_event_append_only is missing or disabled'
        WHERE NOT EXISTS (
            SELECT 1 FROM pg_trigger WHERE tgname = 'ledger_event_append_only' AND tgenabled <> 'D')
        """,
    ),
    (
        "the database must refuse any change to a retired batch",
        """
        SELECT 'trigger batch_retired_final is missing or disabled'
        WHERE NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'batch_retired_final' AND tgenabled <> 'D')
        """,
    ),
    (
        "the database must refuse any change to a voided batch, a voided certificate or a rolled-back issuance",
        """
        SELECT format('trigger %s is missing or disabled', name)
        FROM unnest(ARRAY['batch_voided_final', 'certificate_immutable', 'certificate_never_deleted',
                          'issuance_rolled_back_final']) AS name
        WHERE NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = name AND tgenabled <> 'D')
        """,
    ),
    (
        "the database must refuse any change to an expired batch",
        """
        SELECT 'trigger batch_expired_final is missing or disabled'
        WHERE NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'batch_expired_final' AND tgenabled <> 'D')
        """,
    ),
    (
        "every expired batch must be of a certificate past its expiry, with its batch_expired event",
        """
        SELECT format('batch %s is expired but its certificate %s expires %s', b.id, c.serial_base,
                      coalesce(c.expires_at::text, 'never'))
        FROM certificates_certificatebatch b JOIN certificates_certificate c ON c.id = b.certificate_id
        WHERE b.status = 'expired' AND (c.expires_at IS NULL OR NOT EXISTS (
            SELECT 1 FROM ledger_ledgerevent e WHERE e.batch_id = b.id AND e.kind = 'batch_expired'
            AND e.occurred_at >= c.expires_at))
        """,
    ),
    (
        "an interval reading's certificate (its generator's, of its interval) is for its Wh",
        """
        SELECT format('interval reading %s (%s Wh) is issued as certificate %s of %s Wh', r.id, r.wh, c.serial_base,
                      c.quantity)
        FROM issuance_intervalreading r JOIN certificates_certificate c
             ON c.generator_id = r.generator_id AND c.period = r.period
        WHERE c.voided_at IS NULL AND c.imported_from_id IS NULL AND c.quantity <> r.wh
        """,
    ),
    (
        "every voided batch must have its batch_voided event",
        """
        SELECT format('batch %s is voided without a batch_voided event', b.id)
        FROM certificates_certificatebatch b
        WHERE b.status = 'voided' AND NOT EXISTS (
            SELECT 1 FROM ledger_ledgerevent e WHERE e.batch_id = b.id AND e.kind = 'batch_voided')
        """,
    ),
    (
        "a voided certificate is a rolled-back issuance's, with every batch voided, and only such a one is voided",
        """
        SELECT format('certificate %s is voided but its batch %s is %s', c.serial_base, b.id, b.status)
        FROM certificates_certificate c JOIN certificates_certificatebatch b ON b.certificate_id = c.id
        WHERE c.voided_at IS NOT NULL AND b.status NOT IN ('voided', 'superseded')
        UNION ALL
        SELECT format('certificate %s is voided but no rolled-back issuance is its', c.serial_base)
        FROM certificates_certificate c
        WHERE c.voided_at IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM issuance_issuance i WHERE i.certificate_id = c.id AND i.rolled_back_at IS NOT NULL)
        UNION ALL
        SELECT format('issuance %s is rolled back but its certificate %s is not voided', i.id, c.serial_base)
        FROM issuance_issuance i JOIN certificates_certificate c ON c.id = i.certificate_id
        WHERE i.rolled_back_at IS NOT NULL AND c.voided_at IS NULL
        UNION ALL
        SELECT format('issuance %s is rolled back without an issuance_rolled_back event', i.id)
        FROM issuance_issuance i
        WHERE i.rolled_back_at IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM ledger_ledgerevent e WHERE e.kind = 'issuance_rolled_back'
            AND (e.after ->> 'issuance')::bigint = i.id)
        """,
    ),
    (
        "each issuance in force and each approved correction carries in the fraction and the debit its "
        "generator's step before left (debits are paid only from the same generator's later issuances)",
        """
        WITH steps AS (
            SELECT 'issuance' AS kind, id, generator_id, month AS after_month, 0 AS sequence,
                   carry_in, carry_out, debit_in, debit_in - debit_paid AS debit_out
            FROM issuance_issuance WHERE rolled_back_at IS NULL
            UNION ALL
            SELECT 'correction', c.id, c.generator_id, f.month, c.sequence, c.carry_in, c.carry_out, c.debit_in,
                   c.debit_out
            FROM issuance_correction c JOIN issuance_issuance f ON f.id = c.follows_id
            WHERE c.status = 'approved'
        ), chain AS (
            SELECT *, lag(carry_out) OVER w AS previous_carry, lag(debit_out) OVER w AS previous_debit
            FROM steps WINDOW w AS (PARTITION BY generator_id ORDER BY after_month, sequence)
        )
        SELECT format('%s %s (generator %s, after %s) carries in %s MWh owing %s, but the step before left %s MWh '
                      'owing %s', kind, id, generator_id, after_month, carry_in, debit_in,
                      coalesce(previous_carry, 0), coalesce(previous_debit, 0))
        FROM chain
        WHERE carry_in <> coalesce(previous_carry, 0) OR debit_in <> coalesce(previous_debit, 0)
        """,
    ),
    (
        "an approved correction follows an issuance in force of its own generator",
        """
        SELECT format('correction %s follows issuance %s, which is rolled back or another generator''s', c.id, f.id)
        FROM issuance_correction c JOIN issuance_issuance f ON f.id = c.follows_id
        WHERE c.status = 'approved' AND (f.rolled_back_at IS NOT NULL OR f.generator_id <> c.generator_id)
        """,
    ),
    # A month's bounds are the registry zone's midnights: its lower bound plus 14 days lies inside the month
    # in any zone, so the month is found without the zone.
    (
        "a month's certificates tile across its corrections: its issuance's and one per correction that issued",
        """
        WITH months AS (
            SELECT i.id, i.generator_id, i.month, i.quantity + coalesce(sum(c.quantity), 0) AS owed,
                   count(c.certificate_id) AS corrections_issued
            FROM issuance_issuance i
            LEFT JOIN issuance_correction c ON c.issuance_id = i.id AND c.status = 'approved'
            WHERE i.rolled_back_at IS NULL GROUP BY i.id
        ), held AS (
            SELECT m.id, coalesce(sum(cert.quantity), 0) AS issued,
                   count(*) FILTER (WHERE cert.adjustment) AS adjustments
            FROM months m LEFT JOIN certificates_certificate cert
              ON cert.generator_id = m.generator_id AND cert.voided_at IS NULL
             AND date_trunc('month', lower(cert.period) + interval '14 days')::date = m.month
            GROUP BY m.id
        )
        SELECT format('issuance %s (generator %s, %s): its certificates hold %s, its issuance and corrections %s '
                      '(%s certificates of corrections, %s corrections that issued)', m.id, m.generator_id, m.month,
                      h.issued, m.owed, h.adjustments, m.corrections_issued)
        FROM months m JOIN held h ON h.id = m.id
        WHERE h.issued <> m.owed OR h.adjustments <> m.corrections_issued
        """,
    ),
    (
        "a correction's certificate is an adjustment of its own generator and month",
        """
        SELECT format('certificate %s is an adjustment of no approved correction, or of another month',
                      cert.serial_base)
        FROM certificates_certificate cert
        LEFT JOIN issuance_correction c ON c.certificate_id = cert.id AND c.status = 'approved'
        WHERE cert.adjustment AND (c.id IS NULL OR c.generator_id <> cert.generator_id
                                   OR date_trunc('month', lower(cert.period) + interval '14 days')::date <> c.month)
        """,
    ),
    (
        "an imported certificate is its import's, from the import's tracking system, as many as its original serials",
        """
        SELECT format('certificate %s is imported but no import records it, or its origin or quantity differ',
                      c.serial_base)
        FROM certificates_certificate c LEFT JOIN imports_import i ON i.certificate_id = c.id
        WHERE c.imported_from_id IS NOT NULL
          AND (i.id IS NULL OR i.tracking_system_id <> c.imported_from_id
               OR i.original_end - i.original_start + 1 <> c.quantity)
        UNION ALL
        SELECT format('certificate %s is an import''s but not marked imported', c.serial_base)
        FROM imports_import i JOIN certificates_certificate c ON c.id = i.certificate_id
        WHERE c.imported_from_id IS NULL
        UNION ALL
        SELECT 'exclusion constraint import_serials_once_per_source is missing'
        WHERE NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'import_serials_once_per_source')
        """,
    ),
    (
        "the database must refuse overlapping live batches",
        """
        SELECT 'exclusion constraint batch_live_ranges_do_not_overlap is missing'
        WHERE NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'batch_live_ranges_do_not_overlap')
        """,
    ),
]


# The tables the checks read most of, whose statistics PostgreSQL must know as they are now: after a bulk
# write (a month of hourly certificates) autovacuum may not have analyzed them yet, and with the row counts
# of before, the batch-has-its-event check chose a nested loop over the events of one kind for each batch
# (147,312 hourly batches: stopped after 12 minutes; 0.96 s once analyzed; bench/hourly_issuance.py).
ANALYZED = ["certificates_certificate", "certificates_certificatebatch", "ledger_ledgerevent",
            "transfers_transfer", "transfers_transferitem"]


def ledger_breaches(limit_per_check: int = 1000) -> list[str]:
    """Every breach of a ledger rule, one line each; empty when the ledger is sound. The tables are
    analyzed first (ANALYZED), so that each check is planned on today's row counts."""
    breaches = []
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(ANALYZED)}")
        for rule, sql in CHECKS:
            cursor.execute(f"SELECT * FROM ({sql}) breaches LIMIT {int(limit_per_check)}")
            breaches += [f"{rule}: {row[0]}" for row in cursor.fetchall()]
    return breaches


# Checks that apps above the ledger own (the public log's: publiclog/apps.py registers verify_log's), run by
# verify_ledger after the rules above; registered, so that this app imports none of them.
_app_checks: dict[str, Callable[[], list[str]]] = {}


def app_check_register(name: str, breaches: Callable[[], list[str]]) -> None:
    """Register (again, as Django may call ready() twice: the last one counts) an app's check."""
    _app_checks[name] = breaches


def app_checks() -> list[str]:
    return list(_app_checks)


def app_check_breaches() -> list[str]:
    """Every breach the registered apps' checks find, each after its check's name."""
    return [f"{name}: {breach}" for name, breaches in _app_checks.items() for breach in breaches()]
