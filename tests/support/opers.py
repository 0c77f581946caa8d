"""An InspIRCd oper block, for the tests that need an operator."""

from __future__ import annotations

OPER_BLOCK = """
<class name="everything" commands="*" privs="*" usermodes="*" chanmodes="*" snomasks="*">
<type name="Root" classes="everything">
<oper name="root" password="rootpw" host="*@*" type="Root">
"""
