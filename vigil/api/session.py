"""Logging in and out, and the logged-in user's own account."""

from fastapi import APIRouter, Request, Response

from vigil.api.access import SESSION_COOKIE, CallerDep, client_address
from vigil.api.context import ApiContext
from vigil.api.schemas.session import Login, LoginOut, Me, RightsCatalogue, RightsOut
from vigil.api.schemas.users import PasswordChange, UserOut
from vigil.auth.rights import Function, Operation
from vigil.auth.roles import Role
from vigil.auth.sessions import MAX_AGE_MS
from vigil.auth.users import User


def router(ctx: ApiContext) -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["session"])

    def me(user: User, role: Role) -> Me:
        return Me(
            user=UserOut.of(user, ctx.clock.now_ms()),
            role_name=role.name,
            rights=RightsOut(
                functions=sorted(role.rights.functions),
                operations=sorted(role.rights.operations),
                resources=role.rights.resources,
            ),
        )

    @api.post("/login")
    async def login(body: Login, request: Request, response: Response) -> LoginOut:
        """Start a session: a cookie for browsers and a bearer token for API clients."""
        token, session = await ctx.login.login(body.name, body.password, client_address(request))
        kept_s = MAX_AGE_MS // 1000 if body.remember else None
        # Over HTTPS the cookie is never sent over plain HTTP (a redirect from the HTTP port,
        # a link someone typed without the s).
        secure = request.url.scheme == "https"
        response.set_cookie(SESSION_COOKIE, token, max_age=kept_s, httponly=True,
                            samesite="strict", path="/", secure=secure)  # fmt: skip
        return LoginOut(token=token, **dict(me(session.user, ctx.users.role_of(session.user))))

    @api.post("/logout", status_code=204)
    async def logout(caller: CallerDep, response: Response) -> None:
        await ctx.login.logout(caller.session, caller.address)
        response.delete_cookie(SESSION_COOKIE, path="/")

    @api.get("/me")
    async def get_me(caller: CallerDep) -> Me:
        return me(caller.user, caller.role)

    @api.put("/me/password", status_code=204)
    async def change_password(body: PasswordChange, caller: CallerDep) -> None:
        """Change your own password; all your sessions end, this one included."""
        await ctx.accounts.change_own_password(
            caller.user, caller.address, body.current_password, body.new_password
        )

    @api.get("/rights")
    async def rights(_: CallerDep) -> RightsCatalogue:
        return RightsCatalogue(functions=list(Function), operations=list(Operation))

    return api
