"""A worker's report filed on PostgreSQL as one statement (ADR 0019): the problem, its photos
claimed, its reporter as follower, the "create" event, the audit line and the SMS to the
reporter — the same rows `services.report_file` writes through the ORM on SQLite (and for an
Open311 client), with ids reserved first so that every row, the SMS text with the problem's
number included, is made in Python by the same model code.

The photos are claimed inside the statement: locked (FOR UPDATE), counted, and nothing at all is
written unless every one is still the reporter's own, unattached and not failed — as the ORM
path's conditional UPDATE and rollback do. Keep the two in step; the tests compare their rows
column by column (reports/tests/test_filing_sql.py).
"""

from __future__ import annotations

from datetime import datetime

from django.db.backends.base.base import BaseDatabaseWrapper

from warmstation.core.sqlrows import RowSQL
from warmstation.reports.models import Photo

T_PHOTO = Photo._meta.db_table
PHOTO_FIELDS = [f.attname for f in Photo._meta.concrete_fields]
PHOTO_COLUMNS = ", ".join(f"{T_PHOTO}.{f.column}" for f in Photo._meta.concrete_fields)


def file_in_one_statement(connection: BaseDatabaseWrapper, *, head: RowSQL,
                          photo_ids: list[int], uploader_id: int,
                          tail: list[RowSQL]) -> list[Photo]:
    """Write the problem's row (`head`, its id reserved) and the rows naming it (`tail`: the
    follower, event, audit line and SMS) once the photos are claimed; the photos as claimed, in
    id order. None of them (an empty list), with nothing written, when a photo is not the
    uploader's own, unattached and not failed.

    Table and column names come from the models' metadata and every value is a parameter."""
    ctes = [f"claim AS (SELECT id FROM {T_PHOTO} WHERE id = ANY(%s) AND uploader_id = %s"  # noqa: S608
            " AND problem_id IS NULL AND state <> %s FOR UPDATE)",
            f"p AS (INSERT INTO {head.table} ({head.columns}) SELECT {head.values}"  # noqa: S608
            " WHERE (SELECT count(*) FROM claim) = %s RETURNING id)",
            f"ph AS (UPDATE {T_PHOTO} SET problem_id = p.id, kind = %s FROM p"  # noqa: S608
            f" WHERE {T_PHOTO}.id IN (SELECT id FROM claim) RETURNING {PHOTO_COLUMNS})"]
    params: list = [photo_ids, uploader_id, Photo.State.FAILED, *head.params, len(photo_ids),
                    Photo.Kind.BEFORE]
    for i, row in enumerate(tail):
        ctes.append(f"r{i} AS (INSERT INTO {row.table} ({row.columns})"  # noqa: S608
                    f" SELECT {row.values} FROM p)")
        params += row.params
    with connection.cursor() as cursor:
        cursor.execute("WITH " + ", ".join(ctes) + " SELECT * FROM ph ORDER BY id", params)  # noqa: S608
        rows = cursor.fetchall()
    return [Photo.from_db(connection.alias, PHOTO_FIELDS, row) for row in rows]


def upload_in_one_statement(connection: BaseDatabaseWrapper, *, photo: RowSQL, audit: RowSQL,
                            tasks: list[RowSQL], uploader_id: int, since: datetime,
                            limit: int) -> bool:
    """Write a photo uploaded ahead (its id reserved), its audit line and `tasks` (the task
    rows that re-encode it, core/taskrows.py), unless the uploader already has `limit` photos
    since `since` not yet in a report: then False, nothing written. As in the ORM path, two
    uploads at the same instant may both pass the count."""
    rest = "".join(f", t{i} AS (INSERT INTO {t.table} ({t.columns})"  # noqa: S608
                   f" SELECT {t.values} FROM p)" for i, t in enumerate(tasks))
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH c AS (SELECT count(*) AS n FROM {T_PHOTO} WHERE uploader_id = %s"  # noqa: S608
            " AND problem_id IS NULL AND created_at >= %s),"
            f" p AS (INSERT INTO {photo.table} ({photo.columns}) SELECT {photo.values}"
            " WHERE (SELECT n FROM c) < %s RETURNING id),"
            f" a AS (INSERT INTO {audit.table} ({audit.columns}) SELECT {audit.values} FROM p)"
            f"{rest} SELECT count(*) FROM p",
            [uploader_id, since, *photo.params, limit, *audit.params,
             *(v for t in tasks for v in t.params)])
        (written,) = cursor.fetchone()
    return bool(written)
