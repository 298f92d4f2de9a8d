"""No API tokens in the admin: DRF's token admin shows every key in clear (in its list, and
as each token's name in titles and in the admin's history), so anyone allowed to view tokens
could use anyone's. Keys are shown once, by the token endpoint or `manage.py rotate_token`,
which also revokes a user's token by replacing it.
"""

from django.contrib import admin
from rest_framework.authtoken.models import TokenProxy

admin.site.unregister(TokenProxy)
