from rest_framework.routers import SimpleRouter

from .views import AccountCodeViewSet, CostCenterViewSet, ExtensionViewSet, PersonViewSet

router = SimpleRouter()
router.register("people", PersonViewSet, basename="person")
router.register("extensions", ExtensionViewSet, basename="extension")
router.register("cost-centers", CostCenterViewSet, basename="costcenter")
router.register("account-codes", AccountCodeViewSet, basename="accountcode")
urlpatterns = router.urls
