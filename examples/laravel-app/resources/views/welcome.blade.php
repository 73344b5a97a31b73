<h1>shipshape demo</h1>
