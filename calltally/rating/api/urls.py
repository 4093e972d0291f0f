from rest_framework.routers import SimpleRouter

from .views import AssignmentViewSet, PlanViewSet

router = SimpleRouter()
router.register("tariff-plans", PlanViewSet, basename="plan")
router.register("tariff-assignments", AssignmentViewSet, basename="assignment")
urlpatterns = router.urls
