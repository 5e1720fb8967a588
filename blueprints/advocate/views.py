from flask import render_template
from flask_login import current_user

from blueprints.advocate import bp


@bp.get("/home")
def home():
    return render_template("advocate/home.html", user=current_user)
