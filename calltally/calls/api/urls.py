from rest_framework.routers import SimpleRouter

from .views import CallViewSet

router = SimpleRouter()
router.register("calls", CallViewSet, basename="call")
urlpatterns = router.urls
