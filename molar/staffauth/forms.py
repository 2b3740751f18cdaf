from django import forms


class StaffSignInForm(forms.Form):
    username = forms.CharField(label="Username", max_length=150)
    password = forms.CharField(label="Password", max_length=1000, strip=False, widget=forms.PasswordInput)
