from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class StaffAuthenticationForm(AuthenticationForm):
    """Sign-in for branch staff (and superusers, who go on to the admin)."""

    error_messages = {
        "invalid_login": _("The user name or password is not right. Both are case-sensitive."),
        "inactive": _("This account is disabled."),
        "not_staff": _("This account is not branch staff."),
    }

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not user.is_superuser and not hasattr(user, "staff"):
            raise forms.ValidationError(self.error_messages["not_staff"], code="not_staff")


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("reject", _("Reject")), ("cancel", _("Withdraw"))])
    reason = forms.CharField(label=_("Reason"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))


class TwoFactorCodeForm(forms.Form):
    """The 6-digit code of an authenticator app."""

    code = forms.CharField(label=_("Code from your authenticator app"), max_length=8, min_length=6,
                           widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code",
                                                         "autofocus": True, "class": "form-control"}))


class TwoFactorSignInForm(forms.Form):
    """The sign-in step: the authenticator app's 6-digit code, or one of the backup codes."""

    code = forms.CharField(label=_("Code from your authenticator app, or a backup code"), max_length=16,
                           min_length=6,
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autocapitalize": "none",
                                                         "spellcheck": "false", "autofocus": True,
                                                         "class": "form-control"}))


class ReauthenticationForm(forms.Form):
    """Confirm it is you: the password again, and the code for a two-factor role."""

    password = forms.CharField(label=_("Password"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True,
                                                                 "class": "form-control"}))
    code = forms.CharField(label=_("Code from your authenticator app"), max_length=8, required=False,
                           widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code",
                                                         "class": "form-control"}))
