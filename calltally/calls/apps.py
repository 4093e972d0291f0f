from django.apps import AppConfig


class CallsConfig(AppConfig):
    name = "calltally.calls"
    label = "calls"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # A deleted extension, person or cost center leaves its calls with none (on_delete=SET_NULL,
        # an UPDATE no signal reports): the rollups follow in the same transaction.
        from django.db.models.signals import post_delete

        from calltally.directory.models import CostCenter, Extension, Person

        from . import rollups

        for model, column in ((Extension, "extension_id"), (Person, "person_id"), (CostCenter, "cost_center_id")):
            post_delete.connect(rollups.forget_deleted(column), sender=model, weak=False,
                                dispatch_uid=f"rollups-forget-{column}")
