from .ops import Operation, Plan, ServicePlan
from .planner import describe, plan_service, failed_read

__all__ = ["Operation", "Plan", "ServicePlan", "describe", "plan_service", "failed_read"]
