# The Python sandbox Lambda (template.yaml, SandboxBackend=lambda): analysis libraries and the
# sandbox's own code, no credentials. `sam build` builds it; its role may only write logs.
FROM public.ecr.aws/lambda/python:3.12

# libseccomp: the sandbox's system-call filter (it refuses to run without one).
RUN microdnf install -y libseccomp && microdnf clean all

COPY requirements/sandbox.txt requirements/sandbox.txt
RUN pip install --no-cache-dir -r requirements/sandbox.txt --target "${LAMBDA_TASK_ROOT}"

COPY bot ${LAMBDA_TASK_ROOT}/bot
COPY executor ${LAMBDA_TASK_ROOT}/executor
COPY handlers ${LAMBDA_TASK_ROOT}/handlers

ENV MPLBACKEND=Agg MPLCONFIGDIR=/tmp/matplotlib
CMD ["handlers.python_sandbox.handler"]
