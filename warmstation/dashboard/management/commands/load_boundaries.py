import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from warmstation.core.errors import InvalidInput
from warmstation.dashboard.services import boundaries_load


class Command(BaseCommand):
    help = (
        "Load area boundaries from a GeoJSON FeatureCollection the district supplies; each "
        "feature names its area by code (or by Chinese name with --key name). Coordinates "
        "in WGS-84 (default), GCJ-02 or BD-09 are stored as WGS-84."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--crs", default="wgs84", choices=["wgs84", "gcj02", "bd09"])
        parser.add_argument("--key", default="code", help="the feature property naming the area")

    def handle(self, path, crs, key, **options):
        try:
            collection = json.loads(Path(path).read_text(encoding="utf-8-sig"))
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read {path}: {exc}") from None
        try:
            loaded, missing = boundaries_load(
                collection=collection, crs=crs, key=key, source_name=Path(path).name
            )
        except InvalidInput as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"boundaries loaded: {loaded}")
        if missing:
            self.stdout.write(f"not matched to an area: {', '.join(missing[:20])}")
