# The web app is the shell (base template, navigation, home, sign-in pages): it has no models.
