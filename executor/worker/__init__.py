"""The SQS worker: what the ECS Fargate task runs (`databot worker`).

`service.Worker` long-polls the jobs queue and runs up to `concurrency` jobs at once;
`runner.JobRunner` takes one message from the queue to an answer, through the channel
of the job's platform (`bot.delivery`);
`heartbeat` keeps running jobs' messages hidden; `failures` decides retry or reply;
`health` serves `GET /health`; `metrics` writes EMF metrics.
"""
