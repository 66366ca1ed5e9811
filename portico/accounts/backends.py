from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.db import connection

from portico.accounts.models import User


class EmailBackend(ModelBackend):
    """Sign in with e-mail (any case) and password."""

    def authenticate(self, request, username=None, password=None, email=None, **kwargs):
        email = email or username
        if not email or password is None:
            return None
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            # Spend the same time as a real check so timing does not reveal accounts.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def get_user(self, user_id):
        """The signed-in person of a session: one plain SELECT (every signed-in
        request runs it, and building the ORM's query cost more than running
        it). The same user, fields and checks as ``ModelBackend.get_user``."""
        try:
            pk = User._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        table = connection.ops.quote_name(User._meta.db_table)
        column = connection.ops.quote_name(User._meta.pk.column)
        users = list(User._default_manager.raw(f"SELECT * FROM {table} WHERE {column} = %s", [pk]))
        if users and self.user_can_authenticate(users[0]):
            return users[0]
        return None
