from django.apps import AppConfig


class TellerConfig(AppConfig):
    name = "teller"
