# The models of the district view live in modules by topic; Django finds them here.
from warmstation.dashboard.importing_models import ImportBatch

__all__ = ["ImportBatch"]
