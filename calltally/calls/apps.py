from django.apps import AppConfig


class CallsConfig(AppConfig):
    name = "calltally.calls"
    label = "calls"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # A deleted extension, person or cost center leaves its calls with none (on_delete=SET_NULL,
        # an UPDATE no signal reports): the rollups follow in the same transaction.
        from django.db.models.signals import post_delete, post_save, pre_save

        from calltally.directory.models import CostCenter, Extension, Person

        from . import rollups
        from .models import Call

        pre_save.connect(rollups.call_saving, sender=Call, dispatch_uid="rollups-call-saving")
        post_save.connect(rollups.call_saved, sender=Call, dispatch_uid="rollups-call-saved")
        post_delete.connect(rollups.call_deleted, sender=Call, dispatch_uid="rollups-call-deleted")

        for model, column in ((Extension, "extension_id"), (Person, "person_id"), (CostCenter, "cost_center_id")):
            post_delete.connect(rollups.forget_deleted(column), sender=model, weak=False,
                                dispatch_uid=f"rollups-forget-{column}")
