"""The admin's login form."""

from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.validators import MaxLengthValidator


class LoginForm(AdminAuthenticationForm):
    """The admin's login form, holding the user name to the length of a user's.

    Django sets the field's ``max_length`` after making it, so no validator checks it: a
    name of thousands of letters reached django-axes, whose record of the failed login
    holds 255, and PostgreSQL refused it (a server error).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["username"]
        field.validators.append(MaxLengthValidator(field.max_length))
